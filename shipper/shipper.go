package shipper

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
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
	// is small, so that requests in flight (whose bodies may be twice their
	// events' size once escaped) never hold more than half of it.
	batchBytes int
	grp        *grouper // multiline grouping; nil: off

	mu            sync.Mutex
	in            blocks // input not yet taken by the batcher
	queued        int    // bytes of records in it
	queuedRecs    int
	srcs          []*source
	srcIndex      map[srcKey]uint16
	nextSeq       uint64
	claimedBytes  int    // blocks the batcher holds
	claimMin      uint64 // seq of the oldest record the batcher holds outside a batch; 0: none
	claimedUnread int    // bytes of records the batcher holds and has not read
	eofsDropped   bool   // a pipe's EOF record was dropped: the batcher must end that pipe
	eofMin        uint64 // seq of the oldest dropped EOF whose pipe the batcher has not ended; 0: none
	carryBytes    int
	inflight      []*batch
	inflightEvs   int       // user events in flight and not yet settled
	firstAt       time.Time // when the oldest pending input arrived (about)
	flushTo       uint64    // send without lingering while records below this seq wait
	heldUntil     time.Time // when the batcher's first held group ends (multiline.go); zero: none
	closing       bool
	closed        bool      // Close has counted what was left as lost
	healthy       bool      // the last request succeeded: a lone drop marker may go out now
	outage        bool      // a failure was reported: say when delivery resumes
	successes     uint64    // requests acknowledged, to date failures by
	drops         dropCount // dropped from the queue since the batcher last claimed
	markerHeld    bool      // the batcher holds a drop marker not yet in a request
	waiters       int
	progress      chan struct{} // closed when events settle, for Flush
	stats         Stats
	reported      map[string]time.Time
	spare         []*body // settled requests, for reuse
	bodyBytes     int     // memory of the requests, in flight or spare
	sortBytes     int
	slowLinger    time.Duration // linger set by the last throttled request (throttle.go); 0: none
	slowAt        time.Time     // when it was set, or eased
	raisedAt      time.Time     // when throttling last raised it

	c cutter // the batcher's own state: only run's goroutine touches it

	wake       chan struct{}
	stop       chan struct{}
	done       chan struct{}
	closeDone  chan struct{} // closed when the first Close has finished
	work       chan *batch   // to the senders
	senders    sync.WaitGroup
	sendCtx    context.Context
	cancelSend context.CancelFunc
	ensureMu   sync.Mutex
	ensured    atomic.Uint64  // stream creations done, so that senders that saw it missing create it once
	earlyOnce  sync.Once      // createEarly
	background sync.WaitGroup // createEarly's goroutine
}

// batch is one request: the unit of retry.
type batch struct {
	b      *body
	events int    // user events in it
	minSeq uint64 // lowest seq of its user events
	// after are earlier requests in flight whose times reach this one's
	// earliest: it is held, not handed to a sender, until they are
	// acknowledged (see release).
	after []*batch
}

// New starts a Shipper. Close it to deliver what is buffered.
func New(cfg Config) (*Shipper, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Shipper{
		cfg:       cfg,
		f:         formatter{format: cfg.Format, instance: cfg.Instance, image: cfg.Image, max: cfg.MaxEventBytes},
		srcIndex:  map[srcKey]uint16{},
		nextSeq:   1,
		progress:  make(chan struct{}),
		reported:  map[string]time.Time{},
		wake:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		closeDone: make(chan struct{}),
	}
	var err error
	if s.grp, err = newGrouper(cfg.Multiline, cfg.MultilineWait); err != nil {
		return nil, fmt.Errorf("shipper: %w", err)
	}
	// Requests (InFlight of them, the one being cut, and the sort's
	// copy), each up to twice its events' size and 4 KiB, hold at most
	// half the buffer.
	s.batchBytes = max(min(maxBatchBytes, (cfg.BufferBytes/2/(cfg.InFlight+2)-4096)/2), 1024)
	s.in.size = max(min(256<<10, cfg.BufferBytes/8), 4096)
	s.c.s = s
	s.sendCtx, s.cancelSend = context.WithCancel(context.Background())
	s.work = make(chan *batch, cfg.InFlight)
	s.senders.Add(cfg.InFlight)
	for range cfg.InFlight {
		go s.sender()
	}
	go s.run()
	return s, nil
}

// Log queues one event and returns at once: it never waits for the network
// or for a full buffer (the oldest unsent events make room), and it does
// not allocate: the message is copied into the buffer. Redaction and
// formatting happen later, in the batcher.
func (s *Shipper) Log(ev Event) {
	if ev.Message == "" && s.grp == nil {
		// With grouping, an empty line goes to the batcher like a pipe's:
		// inside a stack trace (Python's chained ones) it is kept.
		s.mu.Lock()
		s.stats.Empty++ // the service refuses empty messages
		s.mu.Unlock()
		return
	}
	if ev.Level == "" {
		ev.Level = "INFO"
	}
	var ts int64
	if ev.Time.IsZero() {
		ts = s.cfg.Now().UnixMilli()
	} else {
		ts = ev.Time.UnixMilli()
	}
	s.mu.Lock()
	if s.closing {
		s.stats.Lost++
		s.mu.Unlock()
		return
	}
	wasEmpty := s.idle()
	r := record{ts: ts, seq: s.nextSeq, src: s.logSource(ev.Level, ev.Source), kind: recEvent,
		data: unsafe.Slice(unsafe.StringData(ev.Message), len(ev.Message))}
	s.nextSeq++
	s.appendRecord(&r)
	s.appended(wasEmpty, r.size(), 1)
	s.mu.Unlock()
}

// idle reports whether no input waits, before an append. Called with mu held.
func (s *Shipper) idle() bool { return s.queued == 0 && s.claimMin == 0 }

// appendRecord copies r into the buffer. Called with mu held.
func (s *Shipper) appendRecord(r *record) {
	s.makeRoom(r.size())
	b := s.in.writable(r.size())
	b.buf = putRecord(b.buf, r)
	b.recs++
	s.queued += r.size()
	s.queuedRecs++
}

// appended keeps the bound and wakes the batcher when a batch may be due.
// Called with mu held.
func (s *Shipper) appended(wasEmpty bool, added, recs int) {
	s.enforceBound()
	switch {
	case wasEmpty:
		s.firstAt = s.cfg.Now()
		s.poke()
	case s.queued >= s.batchBytes && s.queued-added < s.batchBytes,
		s.queuedRecs >= maxBatchEvents && s.queuedRecs-recs < maxBatchEvents:
		// Only when a batch becomes full: the batcher, once woken, cuts
		// while it has room in flight, and a finished request wakes it
		// again. Waking it on every write of a flood wasted more CPU than
		// the copying.
		s.poke()
	}
}

// memory is what the buffered input, the batcher's and the requests in
// flight hold. Called with mu held.
func (s *Shipper) memory() int {
	return s.in.bytes + s.in.freeBytes + s.claimedBytes + s.carryBytes + s.bodyBytes + s.sortBytes
}

// enforceBound brings memory back under the bound: warm free blocks give
// their memory back first, then the oldest queued blocks are dropped
// (remembered for the marker event) and give theirs. The block being
// written is never dropped: it holds the newest input. Called with mu held.
func (s *Shipper) enforceBound() {
	over := false
	for s.memory() > s.cfg.BufferBytes {
		if s.in.trimFree() {
			continue
		}
		if len(s.in.q) <= 1 {
			break
		}
		s.dropFront() // its block is free now: the next turn trims it
		over = true
	}
	if over {
		s.droppedAtBound()
	}
}

// makeRoom is called before a write of n bytes: when it needs a new block
// and the buffer is at its bound, the oldest queued block is dropped first
// and the new input goes into its memory. Dropping after taking a new
// block would give that block's memory back and fault it in again for the
// next, two system calls per block under a flood. Called with mu held.
func (s *Shipper) makeRoom(n int) {
	k := len(s.in.q)
	if k < 2 || s.in.q[k-1].room() >= n || n > s.in.size {
		return // nothing to drop, or no new standard block needed
	}
	if s.in.warm() > 0 || s.memory()+s.in.size <= s.cfg.BufferBytes {
		return // the new block costs no fault, or fits under the bound
	}
	s.dropFront()
	s.droppedAtBound()
}

func (s *Shipper) droppedAtBound() {
	s.settled()
	s.report("drop", fmt.Sprintf("buffer of %d bytes full while CloudWatch Logs does not keep up: dropping the oldest unsent events (a marker in %s/%s will say how many)",
		s.cfg.BufferBytes, s.cfg.Group, s.cfg.Stream))
}

// dropFront drops the oldest queued block. Called with mu held.
func (s *Shipper) dropFront() {
	b := s.in.popFront()
	for off := 0; off < len(b.buf); {
		var r record
		r, off = readRecord(b.buf, off)
		s.queued -= r.size()
		s.queuedRecs--
		if r.kind == recEOF {
			s.srcs[r.src].eofDropped = true
			s.srcs[r.src].eofSeq = r.seq
			s.eofsDropped = true
			// The pipe's unfinished line, held by the batcher, still
			// becomes an event: Flush and the linger must wait for it.
			s.eofMin = minSeq(s.eofMin, r.seq)
			continue
		}
		n, by := countRecord(&r)
		s.drops.add(n, by, r.ts)
		s.stats.Accepted += n
		s.stats.Dropped += n
		s.stats.DroppedBytes += int64(by)
	}
	s.in.recycle(b)
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

// Flush returns when every event logged before the call (for a Pipe: every
// complete line written before it) is acknowledged by the service or
// counted as lost (dropped, rejected), or when ctx ends. Batches waiting
// for the linger go out at once.
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

// oldestSeq is the seq of the oldest record not yet in a request, a
// dropped pipe end whose last line is still to go included; 0: none.
// Called with mu held.
func (s *Shipper) oldestSeq() uint64 {
	o := s.claimMin
	if o == 0 {
		o = s.in.frontSeq()
	}
	return minSeq(o, s.eofMin)
}

// doneBefore reports whether no record below seq is queued, held by the
// batcher or in flight, and no drop marker is due or in flight (it
// describes earlier events). Called with mu held.
func (s *Shipper) doneBefore(seq uint64) bool {
	if s.closed {
		return true // everything is sent or counted as lost
	}
	if o := s.oldestSeq(); o != 0 && o < seq || s.drops.n > 0 && s.healthy || s.markerHeld {
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
// counted as lost and reported. Log calls after Close count as lost. A
// second Close waits (within its ctx) for the first to finish: it returns
// when the shipper has stopped, as its caller expects.
func (s *Shipper) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		select {
		case <-s.closeDone:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("close logs to %s/%s: another Close is still flushing: %w", s.cfg.Group, s.cfg.Stream, ctx.Err())
		}
	}
	s.closing = true
	s.mu.Unlock()
	defer close(s.closeDone)
	err := s.Flush(ctx)
	s.cancelSend() // senders still retrying count their events as lost
	close(s.stop)
	<-s.done // no new requests after this
	s.mu.Lock()
	for _, bt := range s.inflight {
		if len(bt.after) > 0 { // held: to a sender, which counts it as lost (sendCtx is done)
			bt.after = nil
			s.work <- bt
		}
	}
	close(s.work) // under mu: release, which sends too, finds nothing held now
	s.mu.Unlock()
	s.senders.Wait()
	s.background.Wait() // sendCtx is done: a creation in progress ends
	s.mu.Lock()
	lostNow := s.c.lose() // the batcher has stopped: its state is ours
	for len(s.in.q) > 0 {
		b := s.in.popFront()
		for off := 0; off < len(b.buf); {
			var r record
			r, off = readRecord(b.buf, off)
			n, by := countRecord(&r)
			lostNow.add(n, by, r.ts)
		}
	}
	// What the batcher held unread is counted as lost above: it is not
	// buffered any more either (Stats' BufferedBytes).
	s.queued, s.queuedRecs, s.claimMin, s.claimedUnread = 0, 0, 0, 0
	s.stats.Accepted += lostNow.n
	s.stats.Lost += lostNow.n
	s.stats.LostBytes += int64(lostNow.bytes)
	lost, lostBytes := s.stats.Lost, s.stats.LostBytes
	s.in.release()
	// Nothing will be sent any more, a marker no more than an event: a
	// Flush still waiting, or called later, returns.
	s.closed, s.markerHeld = true, false
	s.settled()
	s.mu.Unlock()
	if lost > 0 {
		s.cfg.Notice(fmt.Sprintf("%d events (%d bytes or more) were not delivered to %s/%s before shutdown", lost, lostBytes, s.cfg.Group, s.cfg.Stream))
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
	s.notify(msg)
}
