package store

import (
	"fmt"
	"math"
	"os"
	"sync"
)

// Read returns up to opts.Limit events of one stream in (Timestamp, Seq)
// order; see ReadOptions.
//
// Records hold events in arbitrary timestamp order relative to each other, so
// the stream is not sorted on disk. Read keeps the best Limit events seen so
// far in a bounded heap and visits candidate records in the order most likely
// to improve it: by minimum timestamp going forward, by maximum timestamp
// going backward. Candidates are expanded lazily, segment to blocks to records,
// all from the in-memory index, and the walk stops as soon as the next
// candidate cannot beat the worst event kept. For data that arrives roughly in
// time order this touches only the records that end up in the page.
func (s *Store) Read(groupName, name string, opts ReadOptions) ([]StoredEvent, error) {
	evs, _, err := s.ReadPage(groupName, name, opts)
	return evs, err
}

// ReadPage is Read that also reports whether events beyond the page may
// exist (the page was cut by Limit or MaxBytes). It may say so when the
// cut happened to fall exactly at the end; it never misses a cut.
func (s *Store) ReadPage(groupName, name string, opts ReadOptions) ([]StoredEvent, bool, error) {
	fail := func(err error) ([]StoredEvent, bool, error) {
		return nil, false, fmt.Errorf("read stream %q in group %q: %w", name, groupName, err)
	}
	if opts.Limit <= 0 {
		return fail(fmt.Errorf("limit %d is not positive", opts.Limit))
	}
	st, err := s.lookupStream(groupName, name)
	if err != nil {
		return fail(err)
	}
	rd, err := st.read(opts)
	if err != nil {
		return fail(err)
	}
	defer rd.close()
	return rd.page.events(st.id), rd.page.dropped || rd.stopped, nil
}

// read runs a read and returns the reader holding its page; the caller must
// close it.
func (st *stream) read(opts ReadOptions) (*reader, error) {
	lo := max(opts.Range.Start, opts.MinTimestamp)
	hi := int64(math.MaxInt64)
	if opts.Range.End != 0 {
		hi = opts.Range.End
	}
	if a := opts.After; a != nil {
		if !opts.Backward {
			lo = max(lo, a.Timestamp)
		} else if a.Timestamp < hi {
			hi = a.Timestamp + 1
		}
	}
	views, err := st.snapshot(lo, hi)
	if err != nil {
		return nil, err
	}
	rd := &reader{lo: lo, hi: hi, after: opts.After, backward: opts.Backward, match: opts.Match, views: views,
		page: pageSet{backward: opts.Backward, limit: opts.Limit, maxBytes: opts.MaxBytes}}
	if err := rd.run(); err != nil {
		rd.close()
		return nil, err
	}
	return rd, nil
}

// snapshot copies, under idxMu, what a read needs of the segments that may
// hold events in [lo, hi), and pins them against deletion.
func (st *stream) snapshot(lo, hi int64) ([]*segView, error) {
	st.idxMu.RLock()
	defer st.idxMu.RUnlock()
	if st.gone {
		return nil, ErrStreamNotFound
	}
	var views []*segView
	for _, g := range st.segs {
		if lo >= hi {
			break
		}
		if g.events == 0 || g.maxTs < lo || g.minTs >= hi {
			continue
		}
		g.acquire()
		views = append(views, &segView{fds: &st.s.fds, seg: g, recs: g.recs, blocks: g.blocks, size: g.size, minTs: g.minTs, maxTs: g.maxTs})
	}
	return views, nil
}

// segView is a read's consistent view of one segment: the records committed
// when the read started. Later appends are not seen.
type segView struct {
	fds          *fdCache
	seg          *segment
	recs         []recMeta
	blocks       []block
	size         int64
	minTs, maxTs int64

	f      *os.File // from fds, taken on first use
	buf    *[]byte  // bytes [bufOff, bufOff+len) of the file
	bufOff int64
}

// readAhead is how much one pread fetches around a record, so that a walk
// over neighbouring small records costs one system call per 64 KiB.
const readAhead = 64 << 10

var readBufPool = sync.Pool{New: func() any { b := make([]byte, 0, readAhead); return &b }}

// record returns the verified payload of record i. The payload aliases a
// buffer that the next call may overwrite.
func (v *segView) record(i int, backward bool) ([]byte, error) {
	r := v.recs[i]
	end := r.off + int64(r.size)
	if v.buf == nil || r.off < v.bufOff || end > v.bufOff+int64(len(*v.buf)) {
		if v.f == nil {
			f, err := v.fds.get(v.seg)
			if err != nil {
				return nil, err
			}
			v.f = f
		}
		if v.buf == nil {
			v.buf = readBufPool.Get().(*[]byte)
		}
		start, stop := r.off, end
		if stop-start < readAhead {
			if backward {
				start = max(0, end-readAhead)
			} else {
				stop = min(v.size, r.off+readAhead)
			}
		}
		n := int(stop - start)
		if cap(*v.buf) < n {
			*v.buf = make([]byte, n)
		}
		*v.buf = (*v.buf)[:n]
		if _, err := v.f.ReadAt(*v.buf, start); err != nil {
			*v.buf = (*v.buf)[:0]
			return nil, fmt.Errorf("read %s at offset %d: %w", v.seg.path, r.off, osErr(err))
		}
		v.bufOff = start
	}
	p, err := checkRecord((*v.buf)[r.off-v.bufOff : end-v.bufOff])
	if err != nil {
		return nil, fmt.Errorf("%s at offset %d: %w", v.seg.path, r.off, err)
	}
	return p, nil
}

func (v *segView) close() {
	if v.f != nil {
		v.fds.put(v.seg)
	}
	if v.buf != nil && cap(*v.buf) <= 4*readAhead {
		*v.buf = (*v.buf)[:0]
		readBufPool.Put(v.buf)
	}
	v.seg.release()
}

const (
	candSegment = iota
	candBlock
	candRecord
)

// cand is a segment, block or record still to visit. key is its minimum
// timestamp going forward and its maximum going backward.
type cand struct {
	key  int64
	view int32
	kind int32
	idx  int // block or record index
}

type reader struct {
	lo, hi   int64 // timestamps in [lo, hi)
	after    *Position
	backward bool
	match    func([]byte) bool
	views    []*segView

	cands   heap[cand]
	page    pageSet
	stopped bool // candidates were left unvisited because the page was full
	scanned int  // records read, for tests
}

func (rd *reader) close() {
	for _, v := range rd.views {
		v.close()
	}
}

func (rd *reader) overlaps(minTs, maxTs int64) bool {
	return maxTs >= rd.lo && minTs < rd.hi
}

func (rd *reader) key(minTs, maxTs int64) int64 {
	if rd.backward {
		return maxTs
	}
	return minTs
}

func (rd *reader) run() error {
	if rd.backward {
		rd.cands.less = func(a, b cand) bool { return a.key > b.key }
	} else {
		rd.cands.less = func(a, b cand) bool { return a.key < b.key }
	}
	for i, v := range rd.views {
		rd.cands.push(cand{key: rd.key(v.minTs, v.maxTs), view: int32(i), kind: candSegment})
	}
	for rd.cands.len() > 0 {
		c := rd.cands.top()
		if b, ok := rd.page.bound(); ok {
			// Every remaining candidate's events lie at or beyond c.key.
			if (!rd.backward && c.key > b.ts) || (rd.backward && c.key < b.ts) {
				rd.stopped = true
				break
			}
		}
		rd.cands.pop()
		v := rd.views[c.view]
		switch c.kind {
		case candSegment:
			for bi, b := range v.blocks {
				if rd.overlaps(b.minTs, b.maxTs) {
					rd.cands.push(cand{key: rd.key(b.minTs, b.maxTs), view: c.view, kind: candBlock, idx: bi})
				}
			}
			rd.pushRecords(c.view, len(v.blocks)*blockRecs, len(v.recs))
		case candBlock:
			rd.pushRecords(c.view, c.idx*blockRecs, (c.idx+1)*blockRecs)
		case candRecord:
			if err := rd.scan(v, c.idx); err != nil {
				return err
			}
		}
	}
	return nil
}

func (rd *reader) pushRecords(view int32, from, to int) {
	recs := rd.views[view].recs
	for i := from; i < to; i++ {
		if r := &recs[i]; rd.overlaps(r.minTs, r.maxTs) {
			rd.cands.push(cand{key: rd.key(r.minTs, r.maxTs), view: view, kind: candRecord, idx: i})
		}
	}
}

// scan offers the events of record i to the page.
func (rd *reader) scan(v *segView, i int) error {
	r := v.recs[i]
	rd.scanned++
	p, err := v.record(i, rd.backward)
	if err != nil {
		return err
	}
	ri, err := parsePayload(p)
	if err == nil && (ri.count != r.count || ri.minTs != r.minTs || ri.maxTs != r.maxTs) {
		err = errMalformed // the file no longer matches its index
	}
	if err != nil {
		return fmt.Errorf("%s at offset %d: %w", v.seg.path, r.off, err)
	}
	err = forEachEvent(p, ri.count, func(k int, ts int64, msg []byte) bool {
		if ts < rd.lo {
			return true
		}
		if ts >= rd.hi {
			return false // events in a record are sorted
		}
		h := hitKey{ts: ts, seq: r.seq + uint64(k)}
		if a := rd.after; a != nil {
			ap := hitKey{ts: a.Timestamp, seq: a.Seq}
			if (!rd.backward && !before(ap, h)) || (rd.backward && !before(h, ap)) {
				return true
			}
		}
		if b, ok := rd.page.bound(); ok && !rd.page.better(h, b) {
			// Whether it would match is not worth a look: "more" may
			// err on the side of an extra, empty page.
			rd.page.dropped = true
			// Going forward the rest of the record is later still.
			return rd.backward
		}
		if rd.match != nil && !rd.match(msg) {
			return true
		}
		rd.page.add(h, string(msg), ri.ingest)
		return true
	})
	if err != nil {
		return fmt.Errorf("%s at offset %d: %w", v.seg.path, r.off, err)
	}
	return nil
}

// heap is a binary heap whose top is the element that is less than all
// others.
type heap[T any] struct {
	items []T
	less  func(a, b T) bool
}

func (h *heap[T]) len() int { return len(h.items) }
func (h *heap[T]) top() T   { return h.items[0] }

func (h *heap[T]) push(x T) {
	h.items = append(h.items, x)
	i := len(h.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(h.items[i], h.items[p]) {
			break
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

func (h *heap[T]) pop() T {
	top := h.items[0]
	n := len(h.items) - 1
	h.items[0] = h.items[n]
	var zero T
	h.items[n] = zero
	h.items = h.items[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h.less(h.items[r], h.items[l]) {
			m = r
		}
		if !h.less(h.items[m], h.items[i]) {
			break
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
	return top
}
