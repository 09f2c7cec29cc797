package shipper

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestFlushAfterCloseReturns: after a Close that ran out of time, nothing
// will be sent any more, a drop marker no more than an event: a Flush
// returns at once instead of waiting for its deadline. Here the service is
// healthy and a marker is owed (the buffer overflowed while batches
// lingered) when Close runs out of time at once.
func TestFlushAfterCloseReturns(t *testing.T) {
	s := newShipper(t, newFake(), func(c *Config) { c.BufferBytes = 64 << 10; c.Linger = time.Hour })
	s.Log(Event{Message: "first"})
	flush(t, s) // the service answered: a marker may go out once one is owed
	for i := range 5000 {
		s.Log(Event{Message: fmt.Sprintf("line %d %s", i, strings.Repeat("y", 40))})
	}
	if s.Stats().Dropped == 0 {
		t.Fatal("no drops: the test needs a marker owed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // out of time at once: nothing more goes out
	s.Close(ctx)
	fctx, fcancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer fcancel()
	t0 := time.Now()
	s.Flush(fctx)
	if el := time.Since(t0); el > time.Second {
		t.Fatalf("Flush after Close took %v", el)
	}
}

// TestCloseLeavesNothingBuffered: after a Close that ran out of time, every
// event is counted as sent, dropped, rejected or lost, and Stats says that
// nothing is buffered any more: input the batcher had taken but not read
// yet was counted as lost, so it must not also be reported as buffered.
func TestCloseLeavesNothingBuffered(t *testing.T) {
	f := newFake()
	serviceDown(f)
	s := newShipper(t, f, func(c *Config) { c.InFlight = 1; c.Linger = time.Millisecond })
	for i := range 20_000 {
		s.Log(Event{Message: fmt.Sprintf("line %d %s", i, strings.Repeat("z", 100))})
	}
	// Wait for the batcher to cut the first request and hold the rest of
	// what it claimed, unread, while that request is retried.
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Buffered == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	s.Close(ctx)
	st := s.Stats()
	if st.Buffered != 0 || st.BufferedBytes != 0 || st.Lost == 0 || st.Accepted != st.Sent+st.Dropped+st.Rejected+st.Lost {
		t.Fatalf("after Close: %+v", st)
	}
}

// TestSecondCloseWaitsForTheFirst: a Close called while another is still
// flushing returns once the shipper has stopped (or its own ctx ends), not
// at once while events are still on their way.
func TestSecondCloseWaitsForTheFirst(t *testing.T) {
	f := newFake()
	serviceDown(f)
	s := newShipper(t, f, func(c *Config) { c.Linger = time.Millisecond })
	s.Log(Event{Message: "held while the service is down"})
	first := make(chan struct{})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		s.Close(ctx)
		close(first)
	}()
	time.Sleep(50 * time.Millisecond) // the first Close is flushing
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// The first Close counts the held event as lost before it finishes:
	// a second Close that returned earlier would find it uncounted. (The
	// first's goroutine may not have run on past its Close yet.)
	if st := s.Stats(); st.Lost != 1 {
		t.Fatalf("the second Close returned while the first was still flushing: %+v, want the held event counted lost", st)
	}
	<-first
	// With a ctx that ends first, the second Close says so.
	s2 := newShipper(t, f, func(c *Config) { c.Linger = time.Millisecond })
	s2.Log(Event{Message: "held"})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s2.Close(ctx)
	}()
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s2.Close(ctx); err == nil || !strings.Contains(err.Error(), "another Close is still flushing") {
		t.Fatalf("second Close with a short ctx: %v", err)
	}
}
