package shipper

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Throttling. CloudWatch Logs' request quotas are per account and Region
// (PutLogEvents 5,000/s, CreateLogStream 50/s: docs/quotas.md), shared by
// every instance of a fleet. An instance that retries faster when
// throttled makes the fleet's problem worse, and one that gives up loses
// logs. So a throttled shipper slows its requests, not its intake: it
// doubles its linger (up to MaxLinger) and sends one request at a time, so
// that its batches fill and the fleet sends fewer, fuller requests for the
// same lines; its waits are jittered so that a fleet throttled together
// does not retry together. Each accepted request eases the linger by a
// twentieth, and it halves every lingerHalfLife besides (an instance that
// sends nothing learns nothing), back to Linger: a fast rise and a slow
// fall, as TCP's congestion control, settle a fleet near its quota, with
// few requests throttled (where a doubling balances the easing of about
// fourteen acceptances: one in fifteen). Nothing is dropped for it: the
// events wait in the buffer, whose byte bound alone drops.

// lingerHalfLife is how fast the linger falls back with time alone, for
// an instance that sends little after throttling ends.
const lingerHalfLife = 60 * time.Second

// isThrottle reports the service's "slow down" answers.
func isThrottle(err error) bool {
	switch apiCode(err) {
	case "ThrottlingException", "Throttling", "ThrottledException", "TooManyRequestsException",
		"RequestThrottled", "RequestThrottledException", "RequestLimitExceeded", "SlowDown":
		return true
	}
	return false
}

// lingerAt is the linger in force at now. Called with mu held.
func (s *Shipper) lingerAt(now time.Time) time.Duration {
	if s.slowLinger <= s.cfg.Linger {
		return s.cfg.Linger
	}
	halves := float64(now.Sub(s.slowAt)) / float64(lingerHalfLife)
	l := time.Duration(float64(s.slowLinger) * math.Exp2(-max(halves, 0)))
	if l <= s.cfg.Linger {
		s.slowLinger = 0 // recovered
		return s.cfg.Linger
	}
	return l
}

// easeLinger shortens the linger after an accepted request: acceptance is
// the sign that the account has room, and a fleet whose linger only
// decayed with time would leave its quota unused for long after a
// transient (a scale-out, where every instance doubled at once). Called
// with mu held.
func (s *Shipper) easeLinger() {
	if s.slowLinger == 0 {
		return
	}
	now := s.cfg.Now()
	l := s.lingerAt(now) * 95 / 100
	if l <= s.cfg.Linger {
		s.slowLinger = 0
		return
	}
	s.slowLinger, s.slowAt = l, now
}

// inflightCap is how many requests may be out at once: one while the
// shipper is slowed by throttling. Called with mu held.
func (s *Shipper) inflightCap(now time.Time) int {
	if s.lingerAt(now) > s.cfg.Linger {
		return 1
	}
	return s.cfg.InFlight
}

// throttled records a throttled PutLogEvents request and returns how long
// to wait before its next attempt: the linger it had, jittered over
// [1/2, 3/2) of it.
func (s *Shipper) throttled(err error) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	prev := s.lingerAt(now)
	l := prev
	// Once per linger, however many requests were throttled in it (as
	// TCP halves its window once per round trip): the requests in
	// flight together when the quota ran out are one signal, and
	// doubling for each overshoots far past the fleet's fair share.
	if s.slowLinger == 0 || now.Sub(s.raisedAt) >= l {
		l = min(2*l, s.cfg.MaxLinger)
		s.slowLinger, s.slowAt, s.raisedAt = l, now, now
	}
	s.stats.Throttled++
	s.report("throttled", fmt.Sprintf("put log events to %s/%s throttled (%v): the account's quota is shared by the fleet; sending fewer, fuller requests (linger now %v), dropping nothing",
		s.cfg.Group, s.cfg.Stream, err, l.Round(time.Millisecond)))
	// The wait is the linger before this signal, not a backoff growing
	// per attempt: the linger is this instance's estimate of its share
	// of the account's rate; the new one spaces the requests to come,
	// and making this one pay it too (or more) only ages its lines
	// while the quota goes unused (a fleet flushing at shutdown has
	// seconds).
	return jitter(prev, 0)
}

// createThrottled records a throttled CreateLogStream or CreateLogGroup
// (their own quotas: the linger of PutLogEvents has nothing to do with
// them) and returns the jittered wait before the next attempt.
func (s *Shipper) createThrottled(attempt int, err error) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Throttled++
	s.report("create-throttled", fmt.Sprintf("create log stream %s/%s throttled (%v): retrying; the app is not held, its lines wait in the buffer",
		s.cfg.Group, s.cfg.Stream, err))
	return jitter(s.expBackoff(attempt), 0)
}

// expBackoff is RetryBase doubled per attempt, capped at RetryMax.
func (s *Shipper) expBackoff(attempt int) time.Duration {
	d := s.cfg.RetryBase << min(attempt, 20)
	if d <= 0 || d > s.cfg.RetryMax {
		d = s.cfg.RetryMax
	}
	return d
}

// jitter spreads max(d, floor) over [1/2, 3/2) of it, so that instances
// throttled together do not come back together.
func jitter(d, floor time.Duration) time.Duration {
	d = max(d, floor)
	return d/2 + rand.N(d+1)
}
