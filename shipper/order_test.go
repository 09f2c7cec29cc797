package shipper

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/keelvm/keel/shipper/cwlsdk"
)

// TestOrderOfOneMillisecond: lines of one millisecond (a stack trace, a
// pipe's read under a flood) keep their order across requests in flight
// at once. The service orders events by timestamp only: when the request
// with the first of them was slow or retried and the next landed first,
// the lines came back out of order. Requests whose times do not overlap
// still go at once.
func TestOrderOfOneMillisecond(t *testing.T) {
	f := newFake()
	f.failPut = func(n int, _ *cwl.PutLogEventsInput) error {
		if n == 1 {
			time.Sleep(100 * time.Millisecond) // the first request is slow
		}
		return nil
	}
	now := time.Now()
	s := newShipper(t, f, func(c *Config) { c.Now = func() time.Time { return now } })
	const lines = 40_000 // about 4 MiB: several requests, in flight at once
	var b strings.Builder
	for i := range lines {
		fmt.Fprintf(&b, "line %06d %s\n", i, strings.Repeat("x", 90))
	}
	p := s.Pipe("INFO", "stdout")
	p.Write([]byte(b.String()))
	p.Close()
	flush(t, s)
	got := f.messages()
	if len(got) != lines {
		t.Fatalf("%d of %d lines arrived", len(got), lines)
	}
	for i, m := range got {
		if want := fmt.Sprintf("line %06d ", i); !strings.HasPrefix(m, want) {
			t.Fatalf("event %d is %.12q, want %q: lines of one millisecond out of order (%d requests)", i, m, want, f.calls)
		}
	}
}

// TestRequestsEndWithTheirMillisecond: the batcher ends a request, half
// full or more, before a millisecond that would not fit whole, so that
// requests do not share one and need not wait for each other.
func TestRequestsEndWithTheirMillisecond(t *testing.T) {
	f := newFake()
	var mu sync.Mutex
	var spans [][2]int64
	f.failPut = func(_ int, in *cwl.PutLogEventsInput) error {
		mu.Lock()
		defer mu.Unlock()
		ev := in.LogEvents
		spans = append(spans, [2]int64{*ev[0].Timestamp, *ev[len(ev)-1].Timestamp})
		return nil
	}
	var ms atomic.Int64
	ms.Store(time.Now().UnixMilli())
	s := newShipper(t, f, func(c *Config) {
		c.Now = func() time.Time { return time.UnixMilli(ms.Load()) }
		c.Linger = time.Hour // requests go out when full, or at the Flush
	})
	p := s.Pipe("INFO", "stdout")
	run := []byte(strings.Repeat(strings.Repeat("y", 99)+"\n", 300)) // 30 KB of one millisecond
	for range 100 {
		p.Write(run)
		ms.Add(1)
	}
	flush(t, s)
	mu.Lock()
	defer mu.Unlock()
	if len(spans) < 3 {
		t.Fatalf("%d requests, want several", len(spans))
	}
	slices.SortFunc(spans, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	for i := 1; i < len(spans); i++ {
		if spans[i][0] <= spans[i-1][1] {
			t.Errorf("requests %d and %d share millisecond %d (spans %v)", i-1, i, spans[i][0], spans)
		}
	}
}

// TestCloseCountsHeldRequests: requests held behind an earlier one of the
// same millisecond that never gets through are counted as lost at Close,
// which returns by its deadline.
func TestCloseCountsHeldRequests(t *testing.T) {
	f := newFake()
	hang := make(chan struct{})
	defer close(hang)
	f.failPut = func(int, *cwl.PutLogEventsInput) error { <-hang; return nil }
	now := time.Now()
	s, err := New(Config{Client: cwlsdk.Wrap(f), Group: "g", Stream: "s", Format: FormatText, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	p := s.Pipe("INFO", "stdout")
	p.Write([]byte(strings.Repeat(strings.Repeat("z", 99)+"\n", 40_000)))
	p.Close()
	time.Sleep(100 * time.Millisecond) // one request in flight, others held behind it
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	closed := make(chan error, 1)
	go func() { closed <- s.Close(ctx) }()
	select {
	case err := <-closed:
		if err == nil {
			t.Error("Close reported success with nothing delivered")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return: held requests were never handed to a sender")
	}
	st := s.Stats()
	if st.Accepted != 40_000 || st.Sent != 0 || st.Lost+st.Dropped != st.Accepted {
		t.Fatalf("stats %+v: every line accepted must be counted lost or dropped", st)
	}
}
