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
