package main

import (
	"sync"
	"time"

	"github.com/keelvm/keel/shipper"
)

// initLog keeps init's own lines from the first one on, so that the boot
// stream holds every step with its duration once a shipper exists, and
// forwards later lines as they come.
var initLog = &lineLog{}

const maxInitLines = 2048

type lineLog struct {
	mu    sync.Mutex
	lines []shipper.Event
	ship  *shipper.Shipper
}

func (l *lineLog) add(msg string) {
	ev := shipper.Event{Time: time.Now(), Level: "INFO", Source: "init", Message: msg}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ship != nil {
		l.ship.Log(ev)
	} else if len(l.lines) < maxInitLines {
		l.lines = append(l.lines, ev)
	}
}

// attach sends what was kept to s and forwards what comes later.
func (l *lineLog) attach(s *shipper.Shipper) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ev := range l.lines {
		s.Log(ev)
	}
	l.lines, l.ship = nil, s
}
