package supervisor

import (
	"fmt"
	"time"
)

// Restart is the restart policy: what happens when the app ends on its own.
type Restart string

// The restart policies; the zero value means RestartNever.
const (
	RestartAlways    Restart = "always"     // restart whatever the status
	RestartOnFailure Restart = "on-failure" // restart unless it exited with code 0
	RestartNever     Restart = "never"      // never restart
)

// ParseRestart parses a policy as written in the configuration.
func ParseRestart(s string) (Restart, error) {
	switch p := Restart(s); p {
	case RestartAlways, RestartOnFailure, RestartNever:
		return p, nil
	}
	return "", fmt.Errorf("supervisor: restart policy %q: want always, on-failure or never", s)
}

func (p Restart) valid() bool {
	switch p {
	case "", RestartAlways, RestartOnFailure, RestartNever:
		return true
	}
	return false
}

func (p Restart) restarts(st Status) bool {
	switch p {
	case RestartAlways:
		return true
	case RestartOnFailure:
		return !st.Success()
	}
	return false
}

// Backoff spaces restarts: Initial, doubling up to Max; a run that lasted
// StableAfter or longer resets the delay to Initial.
type Backoff struct {
	Initial     time.Duration // default 1s
	Max         time.Duration // default 30s
	StableAfter time.Duration // default 30s
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = time.Second
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Second
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.StableAfter <= 0 {
		b.StableAfter = 30 * time.Second
	}
	return b
}

// restartPlan tracks the backoff and the crash loop across runs.
type restartPlan struct {
	b        Backoff
	next     time.Duration // delay before the next restart
	unstable int           // consecutive runs shorter than StableAfter
	restarts int           // restarts so far
}

func newRestartPlan(b Backoff) *restartPlan {
	b = b.withDefaults()
	return &restartPlan{b: b, next: b.Initial}
}

// after records a run that lasted ran and returns the delay before the
// next start.
func (p *restartPlan) after(ran time.Duration) time.Duration {
	if ran >= p.b.StableAfter {
		p.next = p.b.Initial
		p.unstable = 0
	} else {
		p.unstable++
	}
	d := p.next
	p.next *= 2
	if p.next > p.b.Max || p.next <= 0 {
		p.next = p.b.Max
	}
	p.restarts++
	return d
}
