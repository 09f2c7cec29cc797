package shipper

import (
	"bytes"
	"encoding/binary"
)

// The buffer of unsent input is a FIFO of byte blocks holding records. A
// record is one Log event (its message) or one chunk of raw bytes read from
// a pipe, lines not yet split: splitting, formatting and redaction happen in
// the batcher, so that a pipe reader's only work is a copy. Blocks are
// recycled, so that a steady flow allocates nothing, and they are the unit
// of the drop policy: when the buffer is over its bound, the oldest queued
// block goes, whole.

// Record kinds.
const (
	recEvent = 1 // a whole message from Log: one event
	recChunk = 2 // bytes from a pipe: lines, the first maybe continuing an earlier chunk's
	recEOF   = 3 // the pipe ended: its unfinished last line is an event now
)

// recCont marks a chunk whose first bytes continue a line of an earlier
// chunk of its source.
const recCont = 1

// recHeader is the size of a record's header:
// ts int64 | seq uint64 | len uint32 | srcN uint32 | src uint16 | kind uint8 | flags uint8 | pad.
const recHeader = 32

// record is a decoded header plus its payload, which aliases the block.
type record struct {
	ts    int64  // milliseconds since the epoch
	seq   uint64 // order of arrival, from 1: what Flush waits for
	srcN  uint32 // the record's number among its source's chunks and EOF, for gaps
	src   uint16 // index into the shipper's sources
	kind  uint8
	flags uint8
	data  []byte
}

// size is what the record takes in a block.
func (r *record) size() int { return recHeader + len(r.data) }

func putRecord(b []byte, r *record) []byte {
	var h [recHeader]byte
	binary.LittleEndian.PutUint64(h[0:], uint64(r.ts))
	binary.LittleEndian.PutUint64(h[8:], r.seq)
	binary.LittleEndian.PutUint32(h[16:], uint32(len(r.data)))
	binary.LittleEndian.PutUint32(h[20:], r.srcN)
	binary.LittleEndian.PutUint16(h[24:], r.src)
	h[26], h[27] = r.kind, r.flags
	b = append(b, h[:]...)
	return append(b, r.data...)
}

// readRecord decodes the record at b[off:] and returns the offset after it.
func readRecord(b []byte, off int) (record, int) {
	h := b[off : off+recHeader]
	n := int(binary.LittleEndian.Uint32(h[16:]))
	r := record{
		ts:    int64(binary.LittleEndian.Uint64(h[0:])),
		seq:   binary.LittleEndian.Uint64(h[8:]),
		srcN:  binary.LittleEndian.Uint32(h[20:]),
		src:   binary.LittleEndian.Uint16(h[24:]),
		kind:  h[26],
		flags: h[27],
	}
	end := off + recHeader + n
	r.data = b[off+recHeader : end]
	return r, end
}

// block holds records back to back in buf[:len(buf)]; r is where the
// batcher's reading stands (claimed blocks only).
type block struct {
	buf    []byte
	r      int
	recs   int  // records in it
	mapped bool // its memory is a segment's (see mem_linux.go), not the Go heap's
	cold   bool // its memory was given back: populate it before use
}

func (b *block) room() int     { return cap(b.buf) - len(b.buf) }
func (b *block) drained() bool { return b.r == len(b.buf) }

// blocks is the FIFO. The last block is the one being written.
//
// Standard blocks are cut from segments of memory mapped outside the Go
// heap, each populated in one system call as it is cut: touching fresh memory a page at a
// time costs a fault per 4 KiB, which on these VMs made filling the buffer
// under a flood cost a pipe reader more than all its reading. Free blocks
// are kept for reuse; those beyond what a flood needs give their memory
// back (they go cold) until they are needed again.
type blocks struct {
	q         []*block
	bytes     int // capacity of the queued blocks: the memory they hold
	size      int // capacity of a standard block
	free      []*block
	freeBytes int // capacity of the warm free blocks: memory too
	seg       []byte
	segMapped bool
	segs      [][]byte // mapped segments, unmapped by release
}

// minFreeBlocks is how many free blocks stay warm at least. Under a flood
// as many stay warm as are queued, so that a block dropped at the bound is
// the next one written.
const minFreeBlocks = 8

// segBlocks is how many standard blocks a segment holds.
const segBlocks = 8

func (bs *blocks) empty() bool { return len(bs.q) == 0 || len(bs.q) == 1 && len(bs.q[0].buf) == 0 }

// frontSeq is the seq of the oldest queued record, 0 when empty.
func (bs *blocks) frontSeq() uint64 {
	for _, b := range bs.q {
		if len(b.buf) > 0 {
			r, _ := readRecord(b.buf, 0)
			return r.seq
		}
	}
	return 0
}

// writable returns a block with room for n more bytes, starting a new one
// when the last has less; a record bigger than a block gets its own.
func (bs *blocks) writable(n int) *block {
	if k := len(bs.q); k > 0 && bs.q[k-1].room() >= n {
		return bs.q[k-1]
	}
	var b *block
	switch {
	case n > bs.size:
		b = &block{buf: make([]byte, 0, n)}
	case len(bs.free) > 0:
		b = bs.free[len(bs.free)-1]
		bs.free[len(bs.free)-1] = nil
		bs.free = bs.free[:len(bs.free)-1]
		if b.cold {
			populate(b.buf[:cap(b.buf)])
			b.cold = false
		} else {
			bs.freeBytes -= cap(b.buf)
		}
	default:
		b = bs.newBlock()
	}
	bs.q = append(bs.q, b)
	bs.bytes += cap(b.buf)
	return b
}

// newBlock cuts a standard block from the current segment, mapping a new
// one when it is used up.
func (bs *blocks) newBlock() *block {
	if len(bs.seg) < bs.size {
		bs.seg, bs.segMapped = mapBytes(segBlocks * bs.size)
		if bs.segMapped {
			bs.segs = append(bs.segs, bs.seg)
		}
	}
	b := &block{buf: bs.seg[:0:bs.size], mapped: bs.segMapped}
	bs.seg = bs.seg[bs.size:]
	if b.mapped {
		// A block at a time: the rest of the segment is no memory yet,
		// which for a small buffer was all of it.
		populate(b.buf[:bs.size])
	}
	return b
}

// popFront removes the oldest block from the queue.
func (bs *blocks) popFront() *block {
	b := bs.q[0]
	copy(bs.q, bs.q[1:])
	bs.q[len(bs.q)-1] = nil
	bs.q = bs.q[:len(bs.q)-1]
	bs.bytes -= cap(b.buf)
	return b
}

// recycle keeps a block for reuse, warm while a flood may need it.
func (bs *blocks) recycle(b *block) {
	if cap(b.buf) != bs.size {
		return // an oversized block: the GC's
	}
	b.buf, b.r, b.recs = b.buf[:0], 0, 0
	bs.free = append(bs.free, b)
	bs.freeBytes += cap(b.buf)
	if bs.warm() > max(minFreeBlocks, len(bs.q)) {
		bs.trimFree()
	}
}

// warm is the number of warm free blocks.
func (bs *blocks) warm() int { return bs.freeBytes / bs.size }

// trimFree gives back the memory of one warm free block; it reports false
// when there is none. Cold blocks sit at the bottom of the free list, warm
// ones above, so that warm ones are reused first.
func (bs *blocks) trimFree() bool {
	for i, b := range bs.free {
		if b.cold {
			continue
		}
		bs.freeBytes -= cap(b.buf)
		if !b.mapped {
			bs.free = append(bs.free[:i], bs.free[i+1:]...) // the GC's now
			return true
		}
		unpopulate(b.buf[:cap(b.buf)])
		b.cold = true
		return true
	}
	return false
}

// release gives back all mapped memory. Nothing may use a block after it.
func (bs *blocks) release() {
	for _, seg := range bs.segs {
		unmapBytes(seg)
	}
	bs.segs, bs.seg, bs.q, bs.free, bs.bytes, bs.freeBytes = nil, nil, nil, nil, 0, 0
}

// dropCount is what dropping or losing records takes away: events (a
// chunk's lines are counted where they start), their bytes, and their time.
type dropCount struct {
	n, bytes int
	t1, t2   int64
}

func (d *dropCount) add(n, bytes int, ts int64) {
	if n == 0 && bytes == 0 {
		return
	}
	if d.n == 0 && d.bytes == 0 || ts < d.t1 {
		d.t1 = ts
	}
	if d.n == 0 && d.bytes == 0 || ts > d.t2 {
		d.t2 = ts
	}
	d.n += n
	d.bytes += bytes
}

func (d *dropCount) merge(o dropCount) {
	if o.n == 0 && o.bytes == 0 {
		return
	}
	if d.n == 0 && d.bytes == 0 {
		*d = o
		return
	}
	d.t1, d.t2 = min(d.t1, o.t1), max(d.t2, o.t2)
	d.n += o.n
	d.bytes += o.bytes
}

// countRecord counts the events a record holds from its start: one for an
// event, and for a chunk the lines that start in it: a chunk that continues
// a line does not start it, a line left open at its end starts in it.
func countRecord(r *record) (events, msgBytes int) {
	switch r.kind {
	case recEvent:
		return 1, len(r.data)
	case recChunk:
		if len(r.data) == 0 {
			return 0, 0
		}
		nl := bytes.Count(r.data, []byte{'\n'})
		events = nl
		if r.data[len(r.data)-1] != '\n' {
			events++
		}
		if r.flags&recCont != 0 {
			events--
		}
		return events, len(r.data) - nl
	}
	return 0, 0
}
