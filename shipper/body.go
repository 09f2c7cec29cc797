package shipper

import (
	"slices"
	"strconv"
	"unsafe"
)

// body is one PutLogEvents request, written as JSON as its events are
// added, and the unit of retry. It enforces the request rules as it grows:
// at most maxBatchEvents events, at most limit bytes counting 26 per event
// (the first event may exceed a soft limit below 1 MiB, never 1 MiB), and a
// span of less than 24 hours. Events are added in arrival order; finish
// sorts them by timestamp (stable) only when they are not in order already.
type body struct {
	buf    []byte
	spans  []span
	bytes  int // the service's size of the events
	limit  int
	lo, hi int64
	head   int // length of the header before the first event
	sorted bool

	lastTS  int64 // the previous event's timestamp and its digits, reused
	lastDig []byte
	counted int // memory accounted for in Shipper.bodyBytes
}

// mem is the memory the request holds.
func (b *body) mem() int { return cap(b.buf) + cap(b.spans)*int(unsafe.Sizeof(span{})) }

// span is one event of the body: buf[start:end] is its JSON object.
type span struct {
	ts         int64
	start, end int32
	size       int32  // the message's size for the service
	seq        uint64 // 0: a drop marker
}

// reset starts an empty request to group/stream.
func (b *body) reset(group, stream string, limit int) {
	if want := limit*2 + 4096; cap(b.buf) < want {
		// Escaping (json events are escaped twice) makes a body up to
		// about twice its events' size: one allocation, not a dozen
		// growing copies.
		b.buf = make([]byte, 0, want)
	}
	b.buf = append(b.buf[:0], `{"logGroupName":"`...)
	b.buf = appendEscaped(b.buf, group)
	b.buf = append(b.buf, `","logStreamName":"`...)
	b.buf = appendEscaped(b.buf, stream)
	b.buf = append(b.buf, `","logEvents":[`...)
	b.head = len(b.buf)
	b.spans = b.spans[:0]
	b.bytes, b.limit, b.sorted = 0, limit, true
	b.lastDig = b.lastDig[:0]
}

func (b *body) len() int { return len(b.spans) }

// room reports whether an event of ts and message size fits.
func (b *body) room(ts int64, size int) bool {
	if len(b.spans) == 0 {
		return size+eventOverhead <= maxBatchBytes
	}
	if len(b.spans) >= maxBatchEvents || b.bytes+size+eventOverhead > b.limit {
		return false
	}
	return max(b.hi, ts)-min(b.lo, ts) < maxSpan.Milliseconds()
}

// open starts an event of timestamp ts; its message is written next,
// escaped, then close ends it.
func (b *body) open(ts int64) int {
	if len(b.spans) > 0 {
		b.buf = append(b.buf, ',')
	}
	start := len(b.buf)
	b.buf = append(b.buf, `{"timestamp":`...)
	if ts != b.lastTS || len(b.lastDig) == 0 {
		b.lastTS = ts
		b.lastDig = strconv.AppendInt(b.lastDig[:0], ts, 10)
	}
	b.buf = append(b.buf, b.lastDig...)
	b.buf = append(b.buf, `,"message":"`...)
	return start
}

// close ends the event opened at start whose message has the given size,
// or takes it back and returns false when it does not fit.
func (b *body) close(start int, ts int64, size int, seq uint64) bool {
	// The request's own size is bounded too, at twice the service's count
	// that the buffer's bound assumes: a control character counts one
	// byte for the service and takes six here (\u001b).
	if !b.room(ts, size) || len(b.spans) > 0 && len(b.buf)+2 > 2*b.limit {
		b.cancel(start)
		return false
	}
	b.buf = append(b.buf, `"}`...)
	if len(b.spans) == 0 {
		b.lo, b.hi = ts, ts
	} else {
		b.sorted = b.sorted && ts >= b.spans[len(b.spans)-1].ts
		b.lo, b.hi = min(b.lo, ts), max(b.hi, ts)
	}
	b.spans = append(b.spans, span{ts: ts, start: int32(start), end: int32(len(b.buf)), size: int32(size), seq: seq})
	b.bytes += size + eventOverhead
	return true
}

// cancel takes back the event opened at start.
func (b *body) cancel(start int) {
	b.buf = b.buf[:start]
	if len(b.spans) > 0 {
		b.buf = b.buf[:start-1] // the comma
	}
}

// finish ends the request. Events out of timestamp order are sorted
// (stable, so that events of one millisecond keep their order) into spare,
// which becomes the body's buffer; the old buffer is returned for reuse.
func (b *body) finish(spare []byte) []byte {
	if !b.sorted {
		slices.SortStableFunc(b.spans, func(x, y span) int {
			switch {
			case x.ts < y.ts:
				return -1
			case x.ts > y.ts:
				return 1
			}
			return 0
		})
		old := b.buf
		b.buf = b.rebuild(append(spare[:0], old[:b.head]...), b.spans, old)
		b.sorted = true
		return old
	}
	b.buf = append(b.buf, "]}"...)
	return spare
}

// rebuild appends the events of spans, whose offsets are into src, and
// the closing brackets to dst, and points the spans at dst.
func (b *body) rebuild(dst []byte, spans []span, src []byte) []byte {
	for i := range spans {
		if i > 0 {
			dst = append(dst, ',')
		}
		sp := &spans[i]
		start := len(dst)
		dst = append(dst, src[sp.start:sp.end]...)
		sp.start, sp.end = int32(start), int32(len(dst))
	}
	return append(dst, "]}"...)
}

// part returns a new request holding the events spans[i:j] of b: an
// InvalidParameterException makes a batch retry as halves.
func (b *body) part(i, j int) *body {
	h := &body{head: b.head, limit: b.limit, sorted: true}
	h.spans = append([]span(nil), b.spans[i:j]...)
	h.buf = h.rebuild(append([]byte(nil), b.buf[:b.head]...), h.spans, b.buf)
	for _, sp := range h.spans {
		h.bytes += int(sp.size) + eventOverhead
	}
	return h
}

// userEvents counts the events that are not drop markers, and the lowest seq.
func (b *body) userEvents() (n int, minSeq uint64) {
	for _, sp := range b.spans {
		if sp.seq != 0 {
			n++
			if minSeq == 0 || sp.seq < minSeq {
				minSeq = sp.seq
			}
		}
	}
	return n, minSeq
}
