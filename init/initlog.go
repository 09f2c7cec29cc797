package main

import (
	"sync"
	"time"

	"github.com/keelvm/keel/shipper"
)

// initLog keeps init's own lines from the first one on, so that the boot
// stream holds every step with its duration once a shipper exists, and
// forwards later lines as they come.
var initLog = newHeldLog(2048, 1<<20)

// heldLog holds events until a shipper exists (the network and the
// instance's identity come after the first events), then hands them over
// and forwards what comes later. It is bounded: beyond it, events are
// counted and the count is reported when the shipper is attached.
type heldLog struct {
	mu                 sync.Mutex
	held               []shipper.Event
	bytes, maxBytes    int
	maxEvents, dropped int
	ship               *shipper.Shipper
	discard            bool // no shipper will come
}

func newHeldLog(maxEvents, maxBytes int) *heldLog {
	return &heldLog{maxEvents: maxEvents, maxBytes: maxBytes}
}

func (l *heldLog) add(msg string) {
	l.log(shipper.Event{Time: time.Now(), Level: "INFO", Source: "init", Message: msg})
}

// log never blocks: it is called from the readers of the app's pipes.
func (l *heldLog) log(ev shipper.Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.ship != nil:
		l.ship.Log(ev)
	case l.discard:
	case len(l.held) < l.maxEvents && l.bytes+len(ev.Message) <= l.maxBytes:
		l.held = append(l.held, ev)
		l.bytes += len(ev.Message)
	default:
		l.dropped++
	}
}

// attach sends what was held to s and forwards what comes later; it
// returns how many events did not fit while held.
func (l *heldLog) attach(s *shipper.Shipper) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ev := range l.held {
		s.Log(ev)
	}
	l.held, l.bytes, l.ship = nil, 0, s
	return l.dropped
}

// drop releases what is held: no shipper will come.
func (l *heldLog) drop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held, l.bytes, l.discard = nil, 0, true
}
