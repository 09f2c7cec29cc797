package shipper

import (
	"bytes"
	"fmt"
	"time"
	"unicode/utf8"
)

// maxLine is where a line without a newline is cut into an event of its
// own (and then into parts at the event size), so that a stream without
// newlines cannot grow a line without bound.
const maxLine = 1 << 20

// cutter is the batcher's state: the blocks it took from the queue, where
// its reading stands, and the drop marker it owes. Only the batcher's
// goroutine uses it, without the lock, except where a method says so.
type cutter struct {
	s        *Shipper
	srcs     []*source // the sources as of the last claim
	blocks   []*block  // claimed, oldest first
	cur      record    // the record being read
	curBlock *block
	inRec    bool
	off      int       // offset in cur.data of the next line
	parts    []string  // the parts of a split line under way
	partsAt  int       // how many of them are in requests already
	pend     dropCount // dropped input to announce before the next event
	eofs     []eofLost // pipes whose end went with a dropped block
	scratch  []byte    // a line joined from pieces
	fixed    []byte    // a line with invalid UTF-8 replaced
	window   [2]int64  // the service's time window for this cut
	sortBuf  []byte    // where a request's events are put in order

	// Multiline grouping (multiline.go).
	held      []*heldEvent // held events, oldest first
	spareHeld []*heldEvent
	heldBytes int    // their message bytes
	flushTo   uint64 // groups of lines below this seq end at once (Flush, Close)

	// Counters for Stats, added to them under the lock after each cut.
	accepted, empty, rejected, split, dropped, joined int
	droppedBytes                                      int64
}

// eofLost is the end of a pipe whose EOF record was dropped.
type eofLost struct {
	src uint16
	seq uint64
}

// cut builds the next request from the input: the drop marker owed, then
// events in arrival order until the request is full or the input ends.
func (c *cutter) cut(now time.Time, b *body) {
	c.window = [2]int64{now.Add(-maxAge).UnixMilli(), now.Add(maxFuture).UnixMilli()}
	for {
		for len(c.eofs) > 0 {
			e := c.eofs[0]
			if !c.eof(b, c.srcs[e.src], e.seq) {
				return
			}
			c.eofs = c.eofs[1:]
		}
		if !c.inRec && !c.nextRecord() {
			if len(c.eofs) > 0 {
				continue
			}
			break
		}
		if c.off == 0 && c.endsBefore(b) {
			return
		}
		if !c.process(b) {
			return
		}
	}
	if !c.endHeld(b, now) {
		return
	}
	// The input ended with drops and nothing after them: the marker closes the batch.
	if c.pend.n > 0 || c.pend.bytes > 0 {
		c.marker(b, now.UnixMilli())
	}
}

// endsBefore reports whether the request, half full or more, had better
// end before the current record, a chunk of a later millisecond than any
// in it that would not fit whole: requests that share a millisecond go one
// after the other (see dispatch), so a flood's requests should end where
// its milliseconds do. Its size is estimated: the escaping is not counted.
func (c *cutter) endsBefore(b *body) bool {
	r := &c.cur
	if r.kind != recChunk || b.len() == 0 || r.ts <= b.hi || b.bytes < b.limit/2 {
		return false
	}
	lines := bytes.Count(r.data, []byte{'\n'}) + 1
	per := eventOverhead
	if c.s.cfg.Format != FormatText {
		per += c.srcs[r.src].preLen + c.srcs[r.src].sufLen
	}
	return b.bytes+len(r.data)+lines*per > b.limit
}

// nextRecord moves to the next record, claiming blocks from the queue when
// the claimed ones are read. It reports false when there is no input.
func (c *cutter) nextRecord() bool {
	for {
		for len(c.blocks) > 0 && c.blocks[0].drained() && c.blocks[0] != c.curBlock {
			c.release(c.blocks[0])
			c.blocks = c.blocks[1:]
		}
		var blk *block
		for _, b := range c.blocks {
			if !b.drained() {
				blk = b
				break
			}
		}
		if blk == nil {
			if !c.claim() {
				return false
			}
			if len(c.eofs) > 0 {
				return false // the caller handles them first
			}
			continue
		}
		c.cur, blk.r = readRecord(blk.buf, blk.r)
		c.curBlock, c.inRec, c.off = blk, true, 0
		if c.cur.kind == recEvent {
			return true
		}
		src := c.srcs[c.cur.src]
		if c.cur.srcN != src.next {
			// Records of this pipe were dropped: the line it had under
			// way lost its end, and a chunk that continues a line lost
			// that line's start.
			c.dropCarry(src)
			c.closeGroup(src) // what follows the gap continues nothing held
			src.skipping = c.cur.flags&recCont != 0
		}
		src.next = c.cur.srcN + 1
		return true
	}
}

// release returns a read block. The lock is taken: the free list is shared.
func (c *cutter) release(b *block) {
	s := c.s
	s.mu.Lock()
	s.claimedBytes -= cap(b.buf)
	s.in.recycle(b)
	s.mu.Unlock()
}

// claim takes blocks from the front of the queue, about a batch's worth,
// with the drops made since the last claim: those happened between the
// input read so far and the blocks taken now, which is where the marker
// goes. It reports whether there is anything new to read.
func (c *cutter) claim() bool {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c.srcs = s.srcs
	c.pend.merge(s.drops)
	s.drops = dropCount{}
	if s.eofsDropped {
		s.eofsDropped = false
		for i, src := range s.srcs {
			if src.eofDropped {
				// Everything read before this claim precedes the EOF: a
				// gap up to it means the pipe's last chunks went too.
				src.eofDropped = false
				if eofN := src.n - 1; eofN != src.next {
					c.dropCarry(src)
				}
				src.next = src.n
				c.eofs = append(c.eofs, eofLost{uint16(i), src.eofSeq})
			}
		}
	}
	got := 0
	for len(s.in.q) > 0 && got < s.batchBytes {
		blk := s.in.popFront()
		if len(blk.buf) == 0 {
			s.in.recycle(blk)
			continue
		}
		s.queued -= len(blk.buf)
		s.queuedRecs -= blk.recs
		s.claimedBytes += cap(blk.buf)
		if s.claimMin == 0 {
			r, _ := readRecord(blk.buf, 0)
			s.claimMin = r.seq
		}
		c.blocks = append(c.blocks, blk)
		got += len(blk.buf)
	}
	s.markerHeld = c.pend.n > 0 || c.pend.bytes > 0
	return got > 0 || len(c.eofs) > 0
}

// process turns the current record into events. It reports false when the
// request is full; the record's reading then resumes where it stopped.
func (c *cutter) process(b *body) bool {
	r := &c.cur
	src := c.srcs[r.src]
	switch r.kind {
	case recEvent:
		if !c.line(b, src, r.ts, r.seq, r.data) {
			return false
		}
	case recEOF:
		if !c.eof(b, src, r.seq) {
			return false
		}
	case recChunk:
		if !c.chunk(b, src) {
			return false
		}
	}
	c.inRec = false
	return true
}

// chunk splits the current chunk record into lines from c.off.
func (c *cutter) chunk(b *body, src *source) bool {
	r := &c.cur
	for c.off < len(r.data) {
		if len(src.carry) >= maxLine {
			if !c.longLine(b, src, r.seq) {
				return false
			}
			continue
		}
		rest := r.data[c.off:]
		i := bytes.IndexByte(rest, '\n')
		if src.skipping {
			if i < 0 {
				c.dropBytes(len(rest), r.ts)
				c.off = len(r.data)
				break
			}
			c.dropBytes(i, r.ts)
			c.off += i + 1
			src.skipping = false
			continue
		}
		if i < 0 {
			// An unfinished line: keep it until its end arrives.
			if len(src.carry) == 0 {
				src.carryTS = r.ts
			}
			n := min(len(rest), maxLine-len(src.carry))
			src.carry = append(src.carry, rest[:n]...)
			c.off += n
			continue
		}
		line, ts := rest[:i], r.ts
		if len(src.carry) > 0 {
			c.scratch = append(append(c.scratch[:0], src.carry...), line...)
			line, ts = c.scratch, src.carryTS
		}
		if !c.line(b, src, ts, r.seq, trimCR(line)) {
			return false
		}
		src.carry = src.carry[:0]
		c.off += i + 1
	}
	return true
}

// longLine sends the first maxLine bytes of a line without a newline as an
// event of its own, cut at a rune boundary.
func (c *cutter) longLine(b *body, src *source, seq uint64) bool {
	k := len(src.carry)
	for j := k - 1; j >= 0 && j >= k-utf8.UTFMax; j-- {
		if utf8.RuneStart(src.carry[j]) {
			if !utf8.FullRune(src.carry[j:]) {
				k = j
			}
			break
		}
	}
	if !c.line(b, src, src.carryTS, seq, src.carry[:k]) {
		return false
	}
	src.carry = src.carry[:copy(src.carry, src.carry[k:])]
	return true
}

// eof ends a pipe: the line it left unfinished is an event now, and so is
// the group it ends.
func (c *cutter) eof(b *body, src *source, seq uint64) bool {
	if len(src.carry) > 0 && !src.skipping {
		if !c.line(b, src, src.carryTS, seq, trimCR(src.carry)) {
			return false
		}
	}
	src.carry, src.skipping = nil, false
	c.closeGroup(src)
	c.drain(b) // what does not fit goes with the next request
	return true
}

// dropCarry drops the unfinished line of src, whose end was dropped.
func (c *cutter) dropCarry(src *source) {
	if len(src.carry) == 0 {
		return
	}
	c.pend.add(1, len(src.carry), src.carryTS)
	c.accepted++
	c.dropped++
	c.droppedBytes += int64(len(src.carry))
	src.carry = src.carry[:0]
}

// dropBytes counts the rest of a line whose start was dropped.
func (c *cutter) dropBytes(n int, ts int64) {
	c.pend.add(0, n, ts)
	c.droppedBytes += int64(n)
}

// minSeq is the lower of two seqs, 0 meaning none.
func minSeq(a, b uint64) uint64 {
	if a == 0 || b != 0 && b < a {
		return b
	}
	return a
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// registerLocked publishes the batcher's position and counters after a cut.
// Called with mu held.
func (c *cutter) registerLocked() {
	s := c.s
	s.claimMin = 0
	if c.inRec {
		s.claimMin = c.cur.seq
	} else {
		for _, blk := range c.blocks {
			if !blk.drained() {
				r, _ := readRecord(blk.buf, blk.r)
				s.claimMin = r.seq
				break
			}
		}
	}
	if len(c.held) > 0 {
		s.claimMin = minSeq(s.claimMin, c.held[0].seq) // held events are not in a request yet
	}
	s.heldUntil = c.heldUntil()
	s.eofMin = 0
	for _, e := range c.eofs {
		s.eofMin = minSeq(s.eofMin, e.seq)
	}
	for _, src := range s.srcs { // dropped since the last claim
		if src.eofDropped {
			s.eofMin = minSeq(s.eofMin, src.eofSeq)
		}
	}
	unread := 0
	for _, blk := range c.blocks {
		unread += len(blk.buf) - blk.r
	}
	s.claimedUnread = unread
	s.sortBytes = cap(c.sortBuf)
	s.carryBytes = 0
	for _, src := range c.srcs {
		if len(src.carry) == 0 && cap(src.carry) > 64<<10 {
			src.carry = nil // a long line's memory goes back
		}
		s.carryBytes += cap(src.carry)
	}
	s.carryBytes += c.heldMem()
	s.markerHeld = c.pend.n > 0 || c.pend.bytes > 0
	st := &s.stats
	st.Accepted += c.accepted
	st.Empty += c.empty
	st.Rejected += c.rejected
	st.Parts += c.split
	st.Joined += c.joined
	st.Dropped += c.dropped
	st.DroppedBytes += c.droppedBytes
	if c.rejected > 0 {
		s.report("window", fmt.Sprintf("%d events with timestamps older than 14 days or more than 2 hours ahead were not sent to %s/%s (CloudWatch Logs refuses them)",
			c.rejected, s.cfg.Group, s.cfg.Stream))
	}
	// Unconditionally: input consumed without an event (empty lines, an
	// unfinished line, a pipe's end) moves Flush's barrier too.
	s.settled()
	c.accepted, c.empty, c.rejected, c.split, c.dropped, c.droppedBytes, c.joined = 0, 0, 0, 0, 0, 0, 0
}

// lose counts what the batcher still holds as lost, at Close, after it
// stopped. Called with mu held.
func (c *cutter) lose() dropCount {
	var d dropCount
	if c.inRec && c.cur.kind == recChunk {
		r := c.cur
		r.data = r.data[c.off:]
		r.flags = 0
		if src := c.srcs[r.src]; len(src.carry) > 0 || src.skipping {
			r.flags = recCont
		}
		n, by := countRecord(&r)
		d.add(n, by, r.ts)
	} else if c.inRec && c.cur.kind == recEvent {
		d.add(1, len(c.cur.data), c.cur.ts)
	}
	for _, blk := range c.blocks {
		for off := blk.r; off < len(blk.buf); {
			var r record
			r, off = readRecord(blk.buf, off)
			n, by := countRecord(&r)
			d.add(n, by, r.ts)
		}
		c.s.claimedBytes -= cap(blk.buf)
	}
	c.blocks, c.inRec = nil, false
	c.loseHeld(&d)
	for _, src := range c.srcs {
		if len(src.carry) > 0 {
			d.add(1, len(src.carry), src.carryTS)
			src.carry = nil
		}
	}
	return d
}
