package shipper

import (
	"fmt"
	"time"
)

// run is the batcher: it cuts batches from the queue when one is full, when
// the oldest event has lingered long enough, or when Flush or Close waits,
// and starts a sender for each while fewer than InFlight are out.
func (s *Shipper) run() {
	defer close(s.done)
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
		case <-timer.C:
		case <-s.stop:
			timer.Stop()
			return
		}
		timer.Stop()
	}
}

// dispatch starts as many batches as allowed now and returns how long to
// wait before the oldest queued event's linger ends (0: nothing to wait
// for). Called with mu held.
func (s *Shipper) dispatch() time.Duration {
	for len(s.inflight) < s.cfg.InFlight {
		marker := s.drops.n > 0 && s.healthy
		if s.q.empty() && !marker {
			return 0
		}
		now := s.cfg.Now()
		if !s.q.empty() {
			full := s.q.bytes >= s.batchBytes || s.q.len() >= maxBatchEvents
			urgent := s.closing || s.q.frontSeq() < s.flushTo
			if age := now.Sub(s.firstAt); !full && !urgent && age < s.cfg.Linger {
				return s.cfg.Linger - age
			}
		}
		if b := s.take(now, marker); b != nil {
			s.inflight = append(s.inflight, b)
			s.inflightBytes += b.bytes
			s.senders.Add(1)
			go s.deliver(b)
		}
	}
	return 0
}

// take cuts the next batch from the queue, with the drop marker first when
// one is due. It returns nil when every event it consumed was outside the
// service's time window. Called with mu held.
func (s *Shipper) take(now time.Time, marker bool) *batch {
	reserve, reserveBytes := 0, 0
	var m entry
	if marker {
		m = entry{msg: s.markerMessage()}
		reserve, reserveBytes = 1, m.size()
	}
	entries, n, rej := cut(s.q.items(), now, s.batchBytes, reserve, reserveBytes, make([]entry, 0, min(s.q.len(), 1024)), nil)
	s.q.discard(n)
	if !s.q.empty() {
		s.firstAt = now
	}
	if len(rej) > 0 {
		s.stats.Rejected += len(rej)
		s.settled()
		s.report("window", fmt.Sprintf("%d events with timestamps older than 14 days or more than 2 hours ahead were not sent to %s/%s (CloudWatch Logs refuses them)",
			len(rej), s.cfg.Group, s.cfg.Stream))
	}
	if marker {
		m.ts = now.UnixMilli()
		if len(entries) > 0 {
			m.ts = entries[0].ts // keeps the batch's span and order as they are
		}
		entries = append([]entry{m}, entries...)
		s.drops = dropRun{}
	}
	if len(entries) == 0 {
		return nil
	}
	b := &batch{entries: entries}
	for i := range entries {
		e := &entries[i]
		b.bytes += e.size()
		if e.seq != 0 {
			s.inflightEvents++
			if b.minSeq == 0 || e.seq < b.minSeq {
				b.minSeq = e.seq
			}
		}
	}
	return b
}

// markerMessage says what was dropped, in the shipper's format.
func (s *Shipper) markerMessage() string {
	d := s.drops
	text := fmt.Sprintf("keel: dropped %d events (%d bytes) between %s and %s", d.n, d.bytes,
		time.UnixMilli(d.t1).UTC().Format(time.RFC3339Nano), time.UnixMilli(d.t2).UTC().Format(time.RFC3339Nano))
	if s.cfg.Format == FormatText {
		return text
	}
	return string(s.f.envelope(nil, "WARN", "keel", text, ""))
}
