package logserver

import (
	"testing"
	"time"
)

// TestWindowLimiter: a quiet limiter admits a second's worth at once, and
// no window ever holds more than the rate, however hard it is asked (a
// token bucket of the same burst admits twice the rate there); a steady
// asker gets the whole rate.
func TestWindowLimiter(t *testing.T) {
	for _, c := range []struct {
		rate  float64
		step  time.Duration // between requests
		burst int           // admitted at once from quiet
	}{
		{5000, 10 * time.Microsecond, 5000},
		{100, time.Millisecond, 100},
		{7.5, time.Millisecond, 8},
		{0.5, 10 * time.Millisecond, 1},
	} {
		l := newWindowLimiter(c.rate)
		var clock int64
		l.now = func() int64 { return clock }
		var admitted []int64
		for range 2 * c.burst { // a fleet starting together
			if l.allow() {
				admitted = append(admitted, 0)
			}
		}
		for clock = 0; clock < int64(10*time.Second); clock += int64(c.step) {
			if l.allow() {
				admitted = append(admitted, clock)
			}
		}
		burst := 0
		for _, a := range admitted {
			if a == 0 {
				burst++
			}
		}
		if burst != c.burst {
			t.Errorf("rate %g: %d admitted at once from quiet, want %d", c.rate, burst, c.burst)
		}
		most, j := 0, 0
		for i := range admitted {
			for admitted[i]-admitted[j] >= int64(time.Second) {
				j++
			}
			most = max(most, i-j+1)
		}
		if limit := max(1, int(c.rate+0.999)); most > limit {
			t.Errorf("rate %g: %d admitted within one second, want at most %d", c.rate, most, limit)
		}
		if got, want := float64(len(admitted))/10, c.rate; got < want*0.9 || got > want*1.1 {
			t.Errorf("rate %g: %.1f a second over 10 s", c.rate, got)
		}
	}
}
