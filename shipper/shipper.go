package shipper

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Event is one log line.
type Event struct {
	Time    time.Time // zero: now
	Level   string    // INFO when empty
	Source  string    // e.g. stdout, stderr, kernel; part of json events
	Message string
}

// Shipper delivers events to one log stream. Its methods are safe for
// concurrent use.
type Shipper struct {
	cfg Config
	f   formatter
	// batchBytes is the byte limit of a batch: 1 MiB, less when the buffer
	// is small, so that batches in flight never hold more than half of it
	// and the newest events always have room.
	batchBytes int

	pemMu   sync.Mutex
	pemOpen map[string]*bool // sources inside a multi-line PEM private key
	pemAny  atomic.Int32

	mu             sync.Mutex
	q              queue
	nextSeq        uint64
	inflight       []*batch
	inflightBytes  int
	inflightEvents int       // user events in flight and not yet settled
	firstAt        time.Time // when the oldest queued event was queued (about)
	flushTo        uint64    // send without lingering while events below this seq wait
	closing        bool
	healthy        bool // the last request succeeded: a drop marker may go out now
	outage         bool // a failure was reported: say when delivery resumes
	drops          dropRun
	waiters        int
	progress       chan struct{} // closed when events settle, for Flush
	stats          Stats
	reported       map[string]time.Time

	wake       chan struct{}
	stop       chan struct{}
	done       chan struct{}
	senders    sync.WaitGroup
	sendCtx    context.Context
	cancelSend context.CancelFunc
	ensureMu   sync.Mutex
}

// batch is one request's events: the unit of retry.
type batch struct {
	entries []entry
	bytes   int
	minSeq  uint64 // lowest seq of the user events in it
}

// dropRun describes the events dropped since the last marker.
type dropRun struct {
	n, bytes int
	t1, t2   int64
}

// New starts a Shipper. Close it to deliver what is buffered.
func New(cfg Config) (*Shipper, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Shipper{
		cfg:      cfg,
		f:        formatter{format: cfg.Format, instance: cfg.Instance, image: cfg.Image, max: cfg.MaxEventBytes},
		pemOpen:  map[string]*bool{},
		nextSeq:  1,
		progress: make(chan struct{}),
		reported: map[string]time.Time{},
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	s.batchBytes = max(min(maxBatchBytes, cfg.BufferBytes/(2*cfg.InFlight)), 1024)
	s.sendCtx, s.cancelSend = context.WithCancel(context.Background())
	go s.run()
	return s, nil
}

// Log queues one event and returns at once: it never waits for the network
// or for a full buffer (the oldest unsent events make room). The message is
// made valid UTF-8, redacted and formatted here, in the caller's goroutine.
func (s *Shipper) Log(ev Event) {
	msg := s.redact(validUTF8(ev.Message), ev.Source)
	if ev.Level == "" {
		ev.Level = "INFO"
	}
	var one [1]string
	msgs := s.f.messages(one[:0], ev.Level, ev.Source, msg)
	var ts int64
	if ev.Time.IsZero() {
		ts = s.cfg.Now().UnixMilli()
	} else {
		ts = ev.Time.UnixMilli()
	}
	s.mu.Lock()
	if s.closing {
		s.stats.Lost += len(msgs)
		s.mu.Unlock()
		return
	}
	wasEmpty := s.q.empty()
	for _, m := range msgs {
		if m == "" {
			s.stats.Empty++ // the service refuses empty messages
			continue
		}
		s.q.push(entry{ts: ts, seq: s.nextSeq, msg: m})
		s.nextSeq++
		s.stats.Accepted++
	}
	s.stats.Parts += len(msgs) - 1
	s.enforceBound()
	if wasEmpty && !s.q.empty() {
		s.firstAt = s.cfg.Now()
		s.poke()
	} else if s.q.bytes >= s.batchBytes || s.q.len() >= maxBatchEvents {
		s.poke()
	}
	s.mu.Unlock()
}

// redact applies the redactor, keeping the state of a PEM block per source.
func (s *Shipper) redact(msg, source string) string {
	if s.pemAny.Load() == 0 && !strings.Contains(msg, "-----BEGIN") {
		return s.cfg.Redactor.Redact(msg, nil)
	}
	s.pemMu.Lock()
	defer s.pemMu.Unlock()
	st := s.pemOpen[source]
	if st == nil {
		st = new(bool)
		s.pemOpen[source] = st
	}
	was := *st
	msg = s.cfg.Redactor.Redact(msg, st)
	if was != *st {
		if *st {
			s.pemAny.Add(1)
		} else {
			s.pemAny.Add(-1)
		}
	}
	return msg
}

// enforceBound drops the oldest unsent events while the buffer is over its
// bound, remembering them for the marker event. Called with mu held.
func (s *Shipper) enforceBound() {
	over := false
	for s.q.bytes+s.inflightBytes > s.cfg.BufferBytes && !s.q.empty() {
		e := s.q.popFront()
		if s.drops.n == 0 || e.ts < s.drops.t1 {
			s.drops.t1 = e.ts
		}
		if s.drops.n == 0 || e.ts > s.drops.t2 {
			s.drops.t2 = e.ts
		}
		s.drops.n++
		s.drops.bytes += len(e.msg)
		s.stats.Dropped++
		s.stats.DroppedBytes += int64(len(e.msg))
		over = true
	}
	if over {
		s.settled()
		s.report("drop", fmt.Sprintf("buffer of %d bytes full while CloudWatch Logs does not keep up: dropping the oldest unsent events (a marker in %s/%s will say how many)",
			s.cfg.BufferBytes, s.cfg.Group, s.cfg.Stream))
	}
}

// poke wakes the batcher without waiting.
func (s *Shipper) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// settled tells Flush callers that events were acknowledged or lost.
// Called with mu held.
func (s *Shipper) settled() {
	if s.waiters > 0 {
		close(s.progress)
		s.progress = make(chan struct{})
	}
}

// Flush returns when every event logged before the call is acknowledged by
// the service or counted as lost (dropped, rejected), or when ctx ends.
// Batches waiting for the linger go out at once.
func (s *Shipper) Flush(ctx context.Context) error {
	s.mu.Lock()
	target := s.nextSeq
	s.flushTo = max(s.flushTo, target)
	s.waiters++
	defer func() { s.waiters--; s.mu.Unlock() }()
	s.poke()
	for !s.doneBefore(target) {
		ch := s.progress
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			s.mu.Lock()
			return fmt.Errorf("flush logs to %s/%s: %w", s.cfg.Group, s.cfg.Stream, ctx.Err())
		}
		s.mu.Lock()
	}
	return nil
}

// doneBefore reports whether no event below seq is queued or in flight,
// and no drop marker is due or in flight (it describes earlier events).
func (s *Shipper) doneBefore(seq uint64) bool {
	if !s.q.empty() && s.q.frontSeq() < seq || s.drops.n > 0 && s.healthy {
		return false
	}
	for _, b := range s.inflight {
		if b.minSeq < seq { // a marker-only batch has minSeq 0
			return false
		}
	}
	return true
}

// Close flushes within ctx, then stops: what is still undelivered is
// counted as lost and reported. Log calls after Close count as lost.
func (s *Shipper) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	s.mu.Unlock()
	err := s.Flush(ctx)
	s.cancelSend() // senders still retrying count their events as lost
	close(s.stop)
	<-s.done // no new senders after this
	s.senders.Wait()
	s.mu.Lock()
	if n := s.q.len(); n > 0 {
		s.stats.Lost += n
		s.q.discard(n)
	}
	lost := s.stats.Lost
	s.mu.Unlock()
	if lost > 0 {
		s.cfg.Notice(fmt.Sprintf("%d events were not delivered to %s/%s before shutdown", lost, s.cfg.Group, s.cfg.Stream))
	}
	return err
}

// report passes msg to the Notice hook at most once a minute per kind, so
// that an outage is one line, not one per retry. Called with mu held.
func (s *Shipper) report(kind, msg string) {
	now := time.Now()
	if last, ok := s.reported[kind]; ok && now.Sub(last) < time.Minute {
		return
	}
	s.reported[kind] = now
	go s.cfg.Notice(msg) // never call out while holding mu
}
