package shipper

import (
	"fmt"
	"runtime/debug"
	"time"
)

// run is the batcher: it cuts requests from the input when one is full,
// when the oldest input has lingered long enough, or when Flush or Close
// waits, and starts a sender for each while fewer than InFlight are out.
func (s *Shipper) run() {
	defer close(s.done)
	defer s.internalError("batcher")
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		s.mu.Lock()
		wait := s.dispatch()
		s.mu.Unlock()
		if wait > 0 {
			timer.Reset(wait)
		}
		select {
		case <-s.wake:
		case <-s.stop:
			timer.Stop()
			return
		case <-timer.C:
		}
		timer.Stop()
	}
}

// sender delivers the requests dispatch hands it; InFlight of them run.
func (s *Shipper) sender() {
	defer s.senders.Done()
	for bt := range s.work {
		func() {
			// A batch that panics (a bug) stays unsettled, holding its
			// slot; the sender goes on with the next.
			defer s.internalError("sender")
			s.deliver(bt)
		}()
	}
}

// pending reports whether the batcher has input to cut or a marker to
// send. Called with mu held.
func (s *Shipper) pending() bool {
	return s.queued > 0 || s.claimMin != 0 || s.markerHeld || s.eofsDropped || len(s.c.eofs) > 0
}

// dispatch starts as many requests as allowed now and returns how long to
// wait before the oldest input's linger ends (0: nothing to wait for).
// Called with mu held; it lets go of it while a request is cut.
func (s *Shipper) dispatch() time.Duration {
	for tries := 0; len(s.inflight) < s.inflightCap(s.cfg.Now()) && tries < 64; tries++ {
		marker := (s.drops.n > 0 || s.drops.bytes > 0) && s.healthy
		if !s.pending() && !marker || s.sendCtx.Err() != nil {
			return 0 // nothing to do, or Close gave up: what is left is lost, not cut
		}
		now := s.cfg.Now()
		full := s.queued+s.claimedUnread >= s.batchBytes || s.queuedRecs >= maxBatchEvents
		o := s.oldestSeq()
		urgent := s.closing || o != 0 && o < s.flushTo || s.markerHeld || marker
		// The linger grows while the service throttles (throttle.go).
		wait := s.lingerAt(now) - now.Sub(s.firstAt)
		if !s.heldUntil.IsZero() {
			// A held group ends sooner than the linger of what came
			// after it (multiline.go).
			wait = min(wait, s.heldUntil.Sub(now))
		}
		if !full && !urgent && wait > 0 {
			return wait
		}
		b := s.newBody()
		s.c.flushTo = s.flushTo
		if s.closing {
			s.c.flushTo = ^uint64(0)
		}
		s.mu.Unlock()
		s.c.cut(now, b)
		s.c.sortBuf = b.finish(s.c.sortBuf)
		s.mu.Lock()
		s.c.registerLocked()
		s.countBody(b)
		if s.pending() {
			s.firstAt = now
		}
		if b.len() == 0 {
			s.freeBody(b)
			continue // the input was empty lines, partial lines or out of the time window
		}
		bt := &batch{b: b}
		bt.events, bt.minSeq = b.userEvents()
		// The service orders events by timestamp only: events of one
		// millisecond in two requests (a stack trace, a pipe's read under
		// a flood) keep their order only if the later request goes once
		// the earlier is acknowledged. Requests apart in time go at once.
		for _, prev := range s.inflight {
			if prev.b.hi >= b.lo {
				bt.after = append(bt.after, prev)
			}
		}
		s.inflight = append(s.inflight, bt)
		s.inflightEvs += bt.events
		if len(bt.after) == 0 {
			s.work <- bt // never blocks: it has room for InFlight
		}

	}
	return 0
}

// newBody returns an empty request, reusing a settled one's memory.
// Called with mu held.
func (s *Shipper) newBody() *body {
	var b *body
	if n := len(s.spare); n > 0 {
		b = s.spare[n-1]
		s.spare = s.spare[:n-1]
	} else {
		b = &body{}
	}
	b.reset(s.cfg.Group, s.cfg.Stream, s.batchBytes)
	s.countBody(b)
	return b
}

// countBody accounts for a request's memory, which grows while it is cut.
// Called with mu held.
func (s *Shipper) countBody(b *body) {
	m := b.mem()
	grew := m > b.counted
	s.bodyBytes += m - b.counted
	b.counted = m
	if grew {
		s.enforceBound() // warm free blocks give their memory back
	}
}

// freeBody keeps a request's memory for the next one. Called with mu held.
// A body that grew beyond what an ordinary request needs (control
// characters escape to six bytes each) is not kept: its memory would stay
// counted against the buffer's bound for good.
func (s *Shipper) freeBody(b *body) {
	if len(s.spare) < s.cfg.InFlight+1 && cap(b.buf) <= 2*b.limit+4096 {
		s.spare = append(s.spare, b)
		return
	}
	s.bodyBytes -= b.counted
}

// markerMessage says what was dropped, in the shipper's format.
func (s *Shipper) markerMessage(d dropCount) string {
	text := fmt.Sprintf("keel: dropped %d events (%d bytes) between %s and %s", d.n, d.bytes,
		time.UnixMilli(d.t1).UTC().Format(time.RFC3339Nano), time.UnixMilli(d.t2).UTC().Format(time.RFC3339Nano))
	if s.cfg.Format == FormatText {
		return text
	}
	return string(s.f.envelope(nil, "WARN", "keel", text, ""))
}

// internalError, deferred by the shipper's goroutines, turns a panic (a bug)
// into a notice: the process the shipper lives in may be PID 1, which must
// not die of it. Delivery stops; what is buffered stays counted, and Flush
// and Close end by their deadlines.
func (s *Shipper) internalError(where string) {
	if r := recover(); r != nil {
		s.notify(fmt.Sprintf("keel: internal error in the shipper's %s for %s/%s, delivery stopped: %v\n%s",
			where, s.cfg.Group, s.cfg.Stream, r, debug.Stack()))
	}
}

// notify calls the Notice hook in a goroutine of its own (never while
// holding mu), and survives a hook that panics.
func (s *Shipper) notify(msg string) {
	go func() {
		defer func() { _ = recover() }()
		s.cfg.Notice(msg)
	}()
}
