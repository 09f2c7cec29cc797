package main

import (
	"fmt"
	"os"
	"time"

	"github.com/keelvm/keel/shipper"
	"github.com/keelvm/keel/supervisor"
)

// consoleSink puts the app's lines and the supervisor's lifecycle events on
// the console through the shipper's Console, which never blocks: the serial
// console writes about 11 KB/s, and a reader that waited on it would stall
// the app once its pipe filled. Lifecycle events go only here and to the
// app's stream (not to the boot stream, as init's own lines do).
type consoleSink struct{ c *shipper.Console }

func newConsoleSink() consoleSink {
	return consoleSink{c: shipper.NewConsole(os.Stderr, consoleBuffer)}
}

// consoleBuffer bounds the app's output waiting for the console: a serial
// console writes about 11 KB/s, and what is queued is written out before
// the power-off, which must come within grace + flush timeout.
const consoleBuffer = 64 << 10

// Log implements supervisor.Sink.
func (s consoleSink) Log(ev supervisor.Event) {
	if ev.Source == supervisor.SourceKeel {
		s.c.WriteLine(fmt.Appendf(nil, "keel init [%8.3fs] %s", time.Since(started).Seconds(), ev.Message))
		return
	}
	s.c.WriteLine(fmt.Appendf(nil, "%s %s", ev.Level, ev.Message))
}

// close writes out what is queued and reports what the console dropped.
func (s consoleSink) close() {
	s.c.Close()
	if n := s.c.Dropped(); n > 0 {
		logf("the console dropped %d lines it could not write in time (they were still shipped)", n)
	}
}
