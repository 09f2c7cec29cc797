package shipper

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// TestPanicBecomesNotice: a panic under the shipper's goroutines (here from
// the client) must not end the process, which may be PID 1: it is reported,
// Log goes on without blocking, and Flush ends by its deadline.
func TestPanicBecomesNotice(t *testing.T) {
	var mu sync.Mutex
	var notices []string
	s := newShipper(t, panicky{newFake()}, func(c *Config) {
		c.Notice = func(m string) { mu.Lock(); notices = append(notices, m); mu.Unlock() }
	})
	for range 1000 {
		s.Log(Event{Message: "line"})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := s.Flush(ctx); err == nil {
		t.Error("Flush reported success for events that were never delivered")
	}
	s.Log(Event{Message: "after"}) // does not block
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer ccancel()
	s.Close(cctx)
	mu.Lock()
	defer mu.Unlock()
	for _, n := range notices {
		if strings.Contains(n, "internal error in the shipper's sender") && strings.Contains(n, "client bug") {
			return
		}
	}
	t.Fatalf("no notice of the panic: %q", notices)
}

// panicky is a client whose PutLogEvents panics.
type panicky struct{ *fake }

func (panicky) PutLogEvents(context.Context, *cwl.PutLogEventsInput, ...func(*cwl.Options)) (*cwl.PutLogEventsOutput, error) {
	panic("client bug")
}

// TestNoticeHookCannotStallDelivery: the Notice hook is the caller's code
// (a console write that may stall, or a bug). The notice that delivery
// resumed comes from a sender after its request succeeded; a hook that
// panics there must not leave the request in flight for good, which made
// every later Flush run to its deadline.
func TestNoticeHookCannotStallDelivery(t *testing.T) {
	f := newFake()
	up := serviceDown(f)
	s := newShipper(t, f, func(c *Config) {
		c.Notice = func(m string) {
			if strings.Contains(m, "resumed") {
				panic("hook bug")
			}
		}
	})
	s.Log(Event{Message: "during the outage"})
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Retried == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	up()
	for _, m := range []string{"", "after"} {
		if m != "" {
			s.Log(Event{Message: m})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err := s.Flush(ctx)
		cancel()
		if err != nil {
			t.Fatalf("flush: %v; stats %+v", err, s.Stats())
		}
	}
	if st := s.Stats(); st.Sent != 2 {
		t.Fatalf("stats %+v", st)
	}
}
