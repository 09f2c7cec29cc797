package shipper

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// TestFlushAfterInputWithoutEvents: input that yields no event (empty
// lines, an unfinished line, a pipe's end) still moves Flush's barrier:
// Flush returns at once instead of waiting for its deadline.
func TestFlushAfterInputWithoutEvents(t *testing.T) {
	cases := []struct {
		name  string
		write func(t *testing.T, s *Shipper, p *Pipe)
	}{
		{"pipe end after shipped lines", func(t *testing.T, s *Shipper, p *Pipe) { p.Write([]byte("hello\n")); flush(t, s); p.Close() }},
		{"empty lines only", func(_ *testing.T, _ *Shipper, p *Pipe) { p.Write([]byte("\n\n")) }},
		{"unfinished line only", func(_ *testing.T, _ *Shipper, p *Pipe) { p.Write([]byte("prompt> ")) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newShipper(t, newFake(), func(c *Config) { c.Linger = time.Hour })
			tc.write(t, s, s.Pipe("INFO", "stdout"))
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			t0 := time.Now()
			if err := s.Flush(ctx); err != nil {
				t.Fatalf("Flush: %v after %v; stats %+v", err, time.Since(t0), s.Stats())
			}
		})
	}
}

// TestSplitLineAcrossWindowMove: the 14-day window moves while a split
// line's parts are going out; the next line must still be its own event,
// not the rest of the old one.
func TestSplitLineAcrossWindowMove(t *testing.T) {
	f := newFake()
	var mu sync.Mutex
	base := time.Now()
	clock := base
	release := make(chan struct{})
	f.failPut = func(n int, in *cwl.PutLogEventsInput) error {
		if n == 1 {
			<-release // the first request waits: the rest of the line is cut later
		}
		return nil
	}
	s := newShipper(t, f, func(c *Config) {
		c.BufferBytes = 4 << 20
		c.InFlight = 1
		c.MaxEventBytes = 4096
		c.Linger = time.Hour
		c.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	})
	// Just inside the window, and 1.5 MB: more parts than one request holds.
	s.Log(Event{Time: base.Add(-14*24*time.Hour + 50*time.Millisecond), Message: strings.Repeat("x", 1_500_000)})
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- s.Flush(ctx)
	}()
	time.Sleep(200 * time.Millisecond)
	s.Log(Event{Message: "next line"})
	mu.Lock()
	clock = base.Add(time.Second) // the long line's time is now outside the window
	mu.Unlock()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	flush(t, s)
	if !slices.Contains(f.messages(), "next line") {
		t.Fatalf("\"next line\" was not delivered as an event; stats %+v", s.Stats())
	}
}
