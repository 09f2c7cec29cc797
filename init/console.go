package main

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/keelvm/keel/supervisor"
)

// consoleSink writes the app's lines and lifecycle events to the console
// without ever blocking: the serial console writes about 11 KB/s, and a
// reader that waited on it would stall the app once its pipe filled. Lines
// the console cannot keep up with are dropped and counted.
type consoleSink struct {
	lines   chan supervisor.Event
	dropped atomic.Int64
}

func newConsoleSink() *consoleSink {
	c := &consoleSink{lines: make(chan supervisor.Event, 4096)}
	go func() {
		defer func() {
			if r := recover(); r != nil {
				logf("console writer stopped: %v", r)
			}
		}()
		for ev := range c.lines {
			if n := c.dropped.Swap(0); n > 0 {
				fmt.Fprintf(os.Stderr, "keel init: console dropped %d lines it could not write in time\n", n)
			}
			if ev.Source == supervisor.SourceKeel {
				logf("%s", ev.Message)
				continue
			}
			fmt.Fprintf(os.Stderr, "%s %s\n", ev.Level, ev.Message)
		}
	}()
	return c
}

// Log implements supervisor.Sink.
func (c *consoleSink) Log(ev supervisor.Event) {
	select {
	case c.lines <- ev:
	default:
		c.dropped.Add(1)
	}
}

// drain waits, at most d, for queued lines to reach the console.
func (c *consoleSink) drain(d time.Duration) {
	deadline := time.Now().Add(d)
	for len(c.lines) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // the line being written
}
