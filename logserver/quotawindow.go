package logserver

import (
	"math"
	"sync"
	"time"
)

// windowLimiter admits at most n requests in any window of the given
// length: a quiet account may send n at once (the burst matches the
// published rate), and no second ever holds more than the rate. A token
// bucket holding a second's worth admits up to twice the rate in the
// second after a quiet one (its full bucket plus a second of refill),
// which a fleet scaling out together would take: the service's quota is a
// rate the account must not exceed, so the window is what is enforced.
// It keeps the times of the last n admissions in a ring: O(1) a request,
// 8 bytes of memory per request of the rate.
type windowLimiter struct {
	mu     sync.Mutex
	window time.Duration
	ring   []int64 // admission times (ns, monotonic from base), oldest at next once full
	next   int
	full   bool
	perSec float64
	now    func() int64 // monotonic nanoseconds
}

// newWindowLimiter admits perSecond requests a second, in whole requests:
// a rate below one a second becomes one request per 1/perSecond seconds.
func newWindowLimiter(perSecond float64) *windowLimiter {
	n := max(1, int(math.Ceil(perSecond)))
	return &windowLimiter{
		window: time.Duration(float64(n) / perSecond * float64(time.Second)),
		ring:   make([]int64, n),
		perSec: perSecond,
		now:    monotonic(),
	}
}

// allow admits a request now, or reports that the window is full.
func (l *windowLimiter) allow() bool {
	l.mu.Lock()
	now := l.now()
	defer l.mu.Unlock()
	if l.full && now-l.ring[l.next] < int64(l.window) {
		return false
	}
	l.ring[l.next] = now
	l.next++
	if l.next == len(l.ring) {
		l.next, l.full = 0, true
	}
	return true
}

// monotonic returns a clock of nanoseconds since it was made, which wall
// clock steps do not move.
func monotonic() func() int64 {
	base := time.Now()
	return func() int64 { return int64(time.Since(base)) }
}
