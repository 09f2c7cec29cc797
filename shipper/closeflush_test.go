package shipper

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestFlushAfterCloseReturns: after a Close that ran out of time (the
// service down, drops counted), nothing will be sent any more: a Flush
// returns at once instead of waiting for its deadline.
func TestFlushAfterCloseReturns(t *testing.T) {
	f := newFake()
	serviceDown(f)
	s := newShipper(t, f, func(c *Config) { c.BufferBytes = 64 << 10 })
	for i := range 5000 {
		s.Log(Event{Message: fmt.Sprintf("line %d %s", i, strings.Repeat("p", 60))})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	s.Close(ctx)
	fctx, fcancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer fcancel()
	t0 := time.Now()
	s.Flush(fctx)
	if el := time.Since(t0); el > time.Second {
		t.Fatalf("Flush after Close took %v", el)
	}
}
