package store

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// stream is one log stream: its segment files and their in-memory index.
//
// Locks, in the order they may nest:
//   - qmu guards the queue of appends waiting for a commit and who leads it.
//   - commitMu is held by the goroutine committing a batch (and by roll,
//     retention and deletion); it guards the active file and the write state.
//   - idxMu guards the index (segment list, stats, nextSeq). It is held only
//     for memory updates, never for I/O, so reads never wait for an fsync.
type stream struct {
	s         *Store
	id        uint64
	groupName string
	name      string
	ctime     int64
	dir       string

	qmu     sync.Mutex
	queue   []*appendReq
	leading bool // a goroutine is committing or about to

	commitMu    sync.Mutex
	f           file // the active segment, open for writing
	activeStart time.Time
	scratch     []byte // concatenated batch
	broken      error  // set when a failed write could not be undone
	closed      bool
	deleted     bool

	idxMu   sync.RWMutex
	segs    []*segment // ascending base; the last one is active
	active  *segment
	nextSeq uint64
	gone    bool // deleted: reads fail with ErrStreamNotFound
	stats   streamStats

	files   atomic.Int64 // segments whose files are not yet unlinked
	dropped atomic.Bool  // deleted: the directory goes with the last file
}

type streamStats struct {
	minTs, maxTs int64 // valid when events > 0
	events       uint64
	maxIngest    int64
	bytes        int64
}

// appendReq is one Append waiting for its commit.
type appendReq struct {
	rec                  []byte // the encoded record
	events               []Event
	minTs, maxTs, ingest int64
	count                int

	wake chan struct{} // signalled once: done, or lead
	lead bool          // set before wake when this request must commit
	seq  uint64
	err  error
}

func (s *Store) newStream(id uint64, groupName, name string, ctime int64) *stream {
	return &stream{
		s:         s,
		id:        id,
		groupName: groupName,
		name:      name,
		ctime:     ctime,
		dir:       filepath.Join(s.dir, streamsDirName, strconv.FormatUint(id, 10)),
	}
}

var recPool = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledRecord keeps the pool from pinning the occasional huge batch.
const maxPooledRecord = 4 << 20

// Append writes events as one record and returns once it is durable. Events
// need not be sorted; they are stored (and numbered) in timestamp order, ties
// in the given order.
func (s *Store) Append(groupName, name string, events []Event) (ingestionTime int64, firstSeq uint64, err error) {
	st, err := s.lookupStream(groupName, name)
	if err != nil {
		return 0, 0, fmt.Errorf("append to stream %q in group %q: %w", name, groupName, err)
	}
	if len(events) == 0 {
		return 0, 0, fmt.Errorf("append to stream %q in group %q: no events", name, groupName)
	}
	if n := recordLen(events); n-recHeaderLen > maxRecordLen {
		return 0, 0, fmt.Errorf("append to stream %q in group %q: %d bytes exceed the record limit of %d", name, groupName, n, maxRecordLen)
	}
	byTime := func(a, b Event) int { return cmp.Compare(a.Timestamp, b.Timestamp) }
	if !slices.IsSortedFunc(events, byTime) {
		events = slices.Clone(events)
		slices.SortStableFunc(events, byTime)
	}
	// Encoding happens here, in the caller's goroutine, so that concurrent
	// appenders spend their CPU in parallel and the leader only does I/O.
	ingest := s.now().UnixMilli()
	bp := recPool.Get().(*[]byte)
	r := &appendReq{
		rec:    encodeRecord(*bp, ingest, events),
		events: events,
		minTs:  events[0].Timestamp,
		maxTs:  events[len(events)-1].Timestamp,
		ingest: ingest,
		count:  len(events),
		wake:   make(chan struct{}, 1),
	}
	st.submit(r)
	if cap(r.rec) <= maxPooledRecord {
		*bp = r.rec
		recPool.Put(bp)
	}
	if r.err != nil {
		return 0, 0, fmt.Errorf("append to stream %q in group %q: %w", name, groupName, r.err)
	}
	return ingest, r.seq, nil
}

// submit queues r and returns when it has been committed or has failed.
//
// Group commit: the first goroutine to find no leader leads. It takes the
// whole queue, writes it with one write and one fsync, publishes it to the
// index and wakes the batch. If more requests queued meanwhile, it hands the
// lead to the oldest of them instead of looping itself, so that no caller is
// kept committing other callers' batches indefinitely under steady load.
func (st *stream) submit(r *appendReq) {
	st.qmu.Lock()
	st.queue = append(st.queue, r)
	if st.leading {
		st.qmu.Unlock()
		<-r.wake
		if !r.lead {
			return
		}
		st.qmu.Lock()
	} else {
		st.leading = true
	}
	batch := st.queue
	st.queue = nil
	st.qmu.Unlock()
	// Deferred so that a panic (say, in a subscriber) still passes the lead
	// on and wakes the batch instead of wedging the stream for good.
	defer st.handOff(r, batch)
	st.commit(batch)
}

// handOff ends a leader's turn: the oldest queued request, if any, leads
// next, and the committed batch is woken.
func (st *stream) handOff(self *appendReq, batch []*appendReq) {
	st.qmu.Lock()
	var next *appendReq
	if len(st.queue) > 0 {
		next = st.queue[0]
		next.lead = true
	} else {
		st.leading = false
	}
	st.qmu.Unlock()
	if next != nil {
		next.wake <- struct{}{}
	}
	for _, x := range batch {
		if x != self {
			x.wake <- struct{}{}
		}
	}
}

// errCommitAborted is what a batch reports if committing it panicked before
// the outcome was known.
var errCommitAborted = errors.New("commit aborted")

// commit writes batch, fsyncs it, and publishes it to the index, setting
// each request's seq or err.
func (st *stream) commit(batch []*appendReq) {
	st.commitMu.Lock()
	defer st.commitMu.Unlock()
	for _, r := range batch {
		r.err = errCommitAborted
	}
	err := st.commitLocked(batch)
	for _, r := range batch {
		r.err = err
	}
	if st.s.openWrites.Load() > maxOpenWrites {
		st.closeWriter()
	}
	if err == nil {
		st.notify(batch)
	}
}

func (st *stream) commitLocked(batch []*appendReq) error {
	switch {
	case st.deleted:
		return ErrStreamNotFound
	case st.closed:
		return ErrClosed
	case st.broken != nil:
		return st.broken
	}
	total := 0
	for _, r := range batch {
		total += len(r.rec)
	}
	if err := st.maybeRoll(int64(total)); err != nil {
		return err
	}
	data := batch[0].rec
	if len(batch) > 1 {
		// One buffer, so the batch is one write; copying is cheap next to
		// the write and fsync it saves.
		buf := st.scratch[:0]
		for _, r := range batch {
			buf = append(buf, r.rec...)
		}
		data = buf
		st.scratch = buf
		if cap(st.scratch) > maxPooledRecord {
			defer func() { st.scratch = nil }()
		}
	}
	off := st.active.size // only commitMu holders change it
	if err := st.writeAt(data, off); err != nil {
		return err
	}
	st.idxMu.Lock()
	for _, r := range batch {
		r.seq = st.nextSeq
		st.active.add(recMeta{off: off, seq: r.seq, minTs: r.minTs, maxTs: r.maxTs, count: uint32(r.count), size: uint32(len(r.rec))}, r.ingest)
		st.nextSeq += uint64(r.count)
		off += int64(len(r.rec))
		st.stats.addRecord(r.minTs, r.maxTs, r.ingest, uint64(r.count), int64(len(r.rec)))
	}
	st.idxMu.Unlock()
	return nil
}

// writeAt writes data at off in the active segment and fsyncs it. On failure
// it cuts the file back to off, so that the next append does not land after
// a partial record; if even that fails, the stream refuses writes until a
// restart, whose recovery scan cuts the torn tail.
func (st *stream) writeAt(data []byte, off int64) error {
	path := st.active.path
	if err := st.openWriter(); err != nil {
		return err
	}
	n, err := st.f.WriteAt(data, off)
	if err == nil && n != len(data) {
		err = errors.New("short write")
	}
	if err != nil {
		err = fmt.Errorf("write %s: %w", path, osErr(err))
	} else if serr := st.s.sync(st.f); serr != nil {
		err = fmt.Errorf("fsync %s: %w", path, osErr(serr))
	}
	if err == nil {
		return nil
	}
	terr := st.f.Truncate(off)
	if terr == nil {
		terr = st.s.sync(st.f)
	}
	if terr != nil {
		st.broken = fmt.Errorf("stream is read-only until restart: cutting %s back to %d bytes after a failed write failed: %w", path, off, osErr(terr))
	}
	return err
}

func (ss *streamStats) addRecord(minTs, maxTs, ingest int64, events uint64, bytes int64) {
	if ss.events == 0 {
		ss.minTs, ss.maxTs = minTs, maxTs
	} else {
		ss.minTs = min(ss.minTs, minTs)
		ss.maxTs = max(ss.maxTs, maxTs)
	}
	ss.events += events
	ss.maxIngest = max(ss.maxIngest, ingest)
	ss.bytes += bytes
}

// recomputeStats derives the stats from the segments after some were removed.
// The caller holds idxMu.
func (st *stream) recomputeStats() {
	var ss streamStats
	for _, g := range st.segs {
		if g.events > 0 {
			ss.addRecord(g.minTs, g.maxTs, g.maxIngest, g.events, 0)
		}
		ss.bytes += g.size
	}
	st.stats = ss
}

// notify hands a committed batch to the subscribers.
func (st *stream) notify(batch []*appendReq) {
	p := st.s.subs.Load()
	if p == nil || len(*p) == 0 {
		return
	}
	for _, r := range batch {
		for _, sub := range *p {
			evs := make([]StoredEvent, len(r.events))
			for i, e := range r.events {
				evs[i] = StoredEvent{Timestamp: e.Timestamp, IngestionTime: r.ingest, Message: e.Message, StreamID: st.id, Seq: r.seq + uint64(i)}
			}
			sub.fn(st.groupName, st.name, evs)
		}
	}
}

// maybeRoll seals the active segment if adding incoming bytes would take it
// past SegmentBytes or it has been active for SegmentAge. The caller holds
// commitMu.
func (st *stream) maybeRoll(incoming int64) error {
	if st.active.size == 0 {
		return nil
	}
	now := st.s.now()
	if st.active.size+incoming <= st.s.opts.SegmentBytes && now.Sub(st.activeStart) < st.s.opts.SegmentAge {
		return nil
	}
	return st.roll(now)
}

// roll seals the active segment (its .idx written and fsynced) and starts a
// new one whose base is the next seq. On failure nothing changes and the old
// segment stays active. The caller holds commitMu.
func (st *stream) roll(now time.Time) error {
	old := st.active
	if err := st.s.writeIndex(old); err != nil {
		return err
	}
	path := filepath.Join(st.dir, segFileName(st.nextSeq))
	// O_TRUNC: a file left by an earlier failed roll at this base holds
	// nothing committed.
	f, err := st.s.openFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, osErr(err))
	}
	// One directory fsync covers both the new .idx and the new segment.
	if err := st.s.syncDir(st.dir); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	// The old descriptor was only for writing; reads open their own.
	st.closeWriter()
	st.f = f
	st.s.openWrites.Add(1)
	st.activeStart = now
	g := st.track(&segment{base: st.nextSeq, path: path})
	st.idxMu.Lock()
	old.sealed = true
	st.segs = append(st.segs, g)
	st.active = g
	st.idxMu.Unlock()
	return nil
}

// load builds the stream's index from disk at Open: sealed segments from
// their .idx (rebuilt by scanning when missing or bad), the active segment by
// scanning it and cutting any torn or corrupt tail, which no Append can have
// acknowledged.
func (st *stream) load() error {
	s := st.s
	entries, err := os.ReadDir(st.dir)
	if errors.Is(err, fs.ErrNotExist) {
		// The crash hit between journaling the stream and creating it.
		if err := s.mkdirDurable(st.dir); err != nil {
			return err
		}
		entries, err = nil, nil
	}
	if err != nil {
		return err
	}
	var bases []uint64
	idx := make(map[uint64]bool)
	for _, e := range entries {
		base, ext, ok := parseSegFileName(e.Name())
		switch {
		case ok && ext == "seg":
			bases = append(bases, base)
		case ok && ext == "idx":
			idx[base] = true
		case strings.Contains(e.Name(), ".cut-"):
			// Bytes cut at recovery (saveCut): kept for inspection.
		default:
			os.Remove(filepath.Join(st.dir, e.Name()))
		}
	}
	slices.Sort(bases)
	// dirty: entries were created or removed and need a directory fsync.
	dirty := len(bases) == 0
	if len(bases) == 0 {
		bases = []uint64{0}
	}
	sealed, base := bases[:len(bases)-1], bases[len(bases)-1]
	for _, b := range sealed {
		g, rebuilt, err := st.loadSealed(b, idx[b])
		if err != nil {
			return err
		}
		dirty = dirty || rebuilt
		st.segs = append(st.segs, st.track(g))
		delete(idx, b)
	}
	for b := range idx {
		// The .idx of a segment that is gone, or of the active one written by
		// a roll that failed after it: stale either way.
		os.Remove(filepath.Join(st.dir, idxFileName(b)))
		dirty = true
	}
	path := filepath.Join(st.dir, segFileName(base))
	f, err := s.openFile(path, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return err
	}
	defer f.Close() // the first append opens it again (writer)
	g, size, _, err := scanIndex(path, base)
	if err != nil {
		return err
	}
	if g.size < size {
		// The first bad record and everything after it were never
		// acknowledged: an Append returns only after its fsync, and
		// records are written in order. A crash can still leave later
		// records whole (the pages of one write reach the disk in any
		// order), but never acknowledged ones after a torn one. Damage
		// that is not a crash looks the same, so the cut bytes are kept
		// aside and reported rather than destroyed.
		saved, serr := saveCut(f, path, g.size, size)
		s.logf("store: cut %d bytes after the last good record at offset %d of %s (saved to %s%s)", size-g.size, g.size, path, saved, errSuffix(serr))
		if err := f.Truncate(g.size); err != nil {
			return fmt.Errorf("cut tail of %s at offset %d: %w", path, g.size, osErr(err))
		}
		if err := s.sync(f); err != nil {
			return fmt.Errorf("fsync %s: %w", path, osErr(err))
		}
	}
	if dirty {
		if err := s.syncDir(st.dir); err != nil {
			return err
		}
	}
	st.segs = append(st.segs, st.track(g))
	st.active = g
	st.nextSeq = g.base + g.events
	st.activeStart = s.now()
	if g.events > 0 {
		st.activeStart = time.UnixMilli(g.firstIngest)
	}
	st.recomputeStats()
	return nil
}

// loadSealed loads a sealed segment's index from its .idx, or rebuilds the
// .idx by scanning the segment when it is missing, damaged or stale.
func (st *stream) loadSealed(base uint64, hasIdx bool) (g *segment, rebuilt bool, err error) {
	path := filepath.Join(st.dir, segFileName(base))
	fi, err := os.Stat(path)
	if err != nil {
		return nil, false, err
	}
	if hasIdx {
		b, err := os.ReadFile(filepath.Join(st.dir, idxFileName(base)))
		if err == nil {
			if g, err := decodeIndex(b, path, base, fi.Size()); err == nil {
				return g, false, nil
			}
		}
	}
	g, size, _, err := scanIndex(path, base)
	if err != nil {
		return nil, false, err
	}
	// A sealed segment is never cut: a bad record there is damage, not a torn
	// write, and its bytes are kept for inspection; only the good prefix is
	// indexed, and reads never reach past it.
	g.size = size
	g.sealed = true
	if err := st.s.writeIndex(g); err != nil {
		return nil, false, err
	}
	return g, true, nil
}

// maxOpenWrites bounds the write descriptors held by idle streams.
const maxOpenWrites = 256

// openWriter opens the active segment for writing if it is not open. The
// caller holds commitMu.
func (st *stream) openWriter() error {
	if st.f != nil {
		return nil
	}
	f, err := st.s.openFile(st.active.path, os.O_RDWR)
	if err != nil {
		return fmt.Errorf("open %s for appending: %w", st.active.path, osErr(err))
	}
	st.f = f
	st.s.openWrites.Add(1)
	return nil
}

// closeWriter gives up the write descriptor. The caller holds commitMu (or
// owns the stream exclusively).
func (st *stream) closeWriter() {
	if st.f != nil {
		st.f.Close()
		st.f = nil
		st.s.openWrites.Add(-1)
	}
}

// saveCut copies bytes [from, to) of f to a file beside it, for an operator
// to inspect. The store ignores such files.
func saveCut(f file, path string, from, to int64) (string, error) {
	buf := make([]byte, to-from)
	if _, err := f.ReadAt(buf, from); err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	out := fmt.Sprintf("%s.cut-%d", path, time.Now().UnixNano())
	if err := os.WriteFile(out, buf, 0o600); err != nil {
		return "", err
	}
	return out, nil
}

func errSuffix(err error) string {
	if err != nil {
		return "; saving failed: " + err.Error()
	}
	return ""
}
