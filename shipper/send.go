package shipper

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/keelvm/keel/shipper/cwlhttp"
)

// deliver sends one request until it is acknowledged, rejected, or the
// shipper shuts down, then releases its place and its memory.
func (s *Shipper) deliver(bt *batch) {
	s.put(bt.b)
	s.mu.Lock()
	s.inflight = slices.DeleteFunc(s.inflight, func(x *batch) bool { return x == bt })
	s.freeBody(bt.b)
	s.release(bt)
	s.settled()
	s.mu.Unlock()
	s.poke()
}

// release sends the held requests that waited for done and nothing else.
// Called with mu held.
func (s *Shipper) release(done *batch) {
	for _, bt := range s.inflight {
		if len(bt.after) == 0 {
			continue // not held: with a sender already
		}
		bt.after = slices.DeleteFunc(bt.after, func(x *batch) bool { return x == done })
		if len(bt.after) == 0 {
			s.work <- bt // never blocks: it has room for InFlight
		}
	}
}

// put sends one request, retrying the same request until it is settled: a
// request is the unit of retry, so that no neighbour is sent twice. An
// InvalidParameterException splits it in halves until the offending event
// is alone, and that event is rejected.
func (s *Shipper) put(b *body) {
	missing := 0 // attempts that found the stream missing
	for attempt := 0; ; attempt++ {
		if s.sendCtx.Err() != nil {
			s.settle(b, outcomeLost, nil)
			return
		}
		s.mu.Lock()
		since := s.successes
		s.mu.Unlock()
		created := s.ensured.Load()
		ctx, cancel := context.WithTimeout(s.sendCtx, s.cfg.RequestTimeout)
		out, err := s.cfg.Client.PutLogEvents(ctx, s.cfg.Group, s.cfg.Stream, b.buf)
		cancel()
		s.mu.Lock()
		s.stats.Requests++
		s.mu.Unlock()
		if err == nil {
			s.acked(b, out)
			return
		}
		var wait time.Duration
		switch class, code := classify(err); class {
		case errInvalid:
			if n := b.len(); n > 1 {
				s.put(b.part(0, n/2))
				s.put(b.part(n/2, n))
				return
			}
			s.settle(b, outcomeRejected, nil)
			s.reportLocked("invalid", fmt.Sprintf("CloudWatch Logs refused an event for %s/%s (%v); it was dropped", s.cfg.Group, s.cfg.Stream, err))
			return
		case errNotFound:
			if err := s.ensure(created); err != nil {
				s.failing("ensure", err, since)
				wait = s.backoff(attempt, false)
			} else if missing > 0 {
				// Created, or there already, and still not found: the
				// service has not caught up, or something deletes the
				// stream as fast as it comes. Not in a tight loop.
				wait = s.backoff(missing, false)
			}
			missing++
		case errThrottled:
			// Not an outage, and not a failure to report as one: the
			// account's quota, shared by the fleet (throttle.go).
			wait = s.throttled(err)
			if since == 0 && created == 0 {
				s.createEarly()
			}
		case errCredentials:
			if expiredToken(code) && s.cfg.RefreshCredentials != nil {
				// Temporary credentials ran out before the client
				// refreshed them: refresh and resend. Expected now and
				// then; an outage only if it goes on.
				s.cfg.RefreshCredentials()
				if attempt > 0 {
					s.failing("credentials", fmt.Errorf("credentials refused (%s): %w", code, err), since)
				}
				wait = s.backoff(attempt, false)
				break
			}
			s.failing("credentials", fmt.Errorf("credentials refused (%s): %w", code, err), since)
			wait = s.backoff(attempt, true)
		default:
			s.failing("put", err, since)
			wait = s.backoff(attempt, false)
		}
		s.mu.Lock()
		s.stats.Retried++
		s.healthy = false
		s.mu.Unlock()
		if wait > 0 {
			select {
			case <-time.After(wait):
			case <-s.sendCtx.Done():
			}
		}
	}
}

type outcome int

const (
	outcomeSent outcome = iota
	outcomeRejected
	outcomeLost
)

// settle counts the events of b as sent, rejected or lost. rejected, if
// set, marks the events the service refused individually in an accepted
// request.
func (s *Shipper) settle(b *body, o outcome, rejected func(i int) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, sp := range b.spans {
		if sp.seq == 0 {
			// A marker takes the time of the event after the gap: the
			// service refuses it with that event, and then it is not in
			// the stream.
			if o == outcomeSent && (rejected == nil || !rejected(i)) {
				s.stats.Markers++
			}
			continue
		}
		s.inflightEvs--
		switch {
		case o == outcomeSent && (rejected == nil || !rejected(i)):
			s.stats.Sent++
		case o == outcomeLost:
			s.stats.Lost++
			s.stats.LostBytes += int64(sp.size)
		default:
			s.stats.Rejected++
		}
	}
	s.settled()
}

// acked records a successful request, including the events the service
// dropped individually (too old, expired by retention, too new).
func (s *Shipper) acked(b *body, out *cwlhttp.PutResult) {
	var rejected func(int) bool
	if out != nil && out.Rejected != nil {
		ri := out.Rejected
		lo, hi := 0, b.len()
		if ri.TooOldLogEventEndIndex != nil {
			lo = max(lo, int(*ri.TooOldLogEventEndIndex))
		}
		if ri.ExpiredLogEventEndIndex != nil {
			lo = max(lo, int(*ri.ExpiredLogEventEndIndex))
		}
		if ri.TooNewLogEventStartIndex != nil {
			hi = min(hi, int(*ri.TooNewLogEventStartIndex))
		}
		rejected = func(i int) bool { return i < lo || i >= hi }
		s.reportLocked("service-rejected", fmt.Sprintf("CloudWatch Logs refused %d events of a batch to %s/%s as too old, expired or too new",
			lo+b.len()-hi, s.cfg.Group, s.cfg.Stream))
	}
	s.settle(b, outcomeSent, rejected)
	s.mu.Lock()
	wasFailing := s.outage
	s.healthy, s.outage = true, false
	s.successes++
	s.easeLinger()
	delete(s.reported, "put")
	delete(s.reported, "credentials")
	delete(s.reported, "ensure")
	s.mu.Unlock()
	if wasFailing {
		// Through notify, as every report from the shipper's goroutines:
		// this sender still holds its request in flight, which a hook
		// that stalls or panics must not keep there.
		s.notify(fmt.Sprintf("delivery to %s/%s resumed", s.cfg.Group, s.cfg.Stream))
	}
}

// failing reports a failed attempt once per outage. An attempt that began
// before another request succeeded is not news: the outage it saw is over
// (several requests are in flight, and a slow failure can land after a
// success), and reporting it would announce a new outage that is not.
func (s *Shipper) failing(kind string, err error, since uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.successes != since {
		return
	}
	s.outage = true
	s.report(kind, fmt.Sprintf("put log events to %s/%s: %v; retrying", s.cfg.Group, s.cfg.Stream, err))
}

func (s *Shipper) reportLocked(kind, msg string) {
	s.mu.Lock()
	s.report(kind, msg)
	s.mu.Unlock()
}

// backoff is capped exponential with jitter in [d/2, d). Credentials errors
// wait longer: they are fixed by a person or a role refresh, not by hurrying.
func (s *Shipper) backoff(attempt int, slow bool) time.Duration {
	base, limit := s.cfg.RetryBase, s.cfg.RetryMax
	if slow {
		base, limit = s.cfg.RetryMax, 12*s.cfg.RetryMax
	}
	d := base << min(attempt, 20)
	if d <= 0 || d > limit {
		d = limit
	}
	return d/2 + rand.N(d/2+1)
}

type errClass int

const (
	errTransient   errClass = iota // 5xx, timeouts, network: retry
	errInvalid                     // InvalidParameterException: split or reject
	errNotFound                    // the group or stream is missing: create, retry
	errCredentials                 // expired or unknown credentials: report, retry slowly
	errThrottled                   // over the account's request quota: slow down, retry
)

// expiredToken reports whether an error code says the request's temporary
// credentials expired.
func expiredToken(code string) bool {
	return code == "ExpiredTokenException" || code == "ExpiredToken"
}

// classify sorts an error from PutLogEvents by the service's error code,
// which the SDK's typed errors and cwlhttp's APIError both carry.
func classify(err error) (errClass, string) {
	code := apiCode(err)
	switch code {
	case "ResourceNotFoundException":
		return errNotFound, code
	case "InvalidParameterException":
		return errInvalid, code
	}
	if isThrottle(err) {
		return errThrottled, code
	}
	switch code {
	case "ExpiredTokenException", "ExpiredToken", "UnrecognizedClientException", "InvalidSignatureException",
		"InvalidClientTokenId", "IncompleteSignature", "AccessDeniedException", "AccessDenied", "MissingAuthenticationToken":
		return errCredentials, code
	}
	if strings.Contains(err.Error(), "retrieve credentials") {
		return errCredentials, "no credentials"
	}
	return errTransient, code
}
