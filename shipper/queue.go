package shipper

// entry is one event waiting or in flight. seq numbers the events in the
// order Log accepted them (from 1); the drop marker has seq 0.
type entry struct {
	ts  int64 // milliseconds since the epoch
	seq uint64
	msg string
}

// size is what the event counts toward a batch and toward the memory bound.
func (e *entry) size() int { return len(e.msg) + eventOverhead }

// queue holds the unsent events in arrival order. It is a slice with a
// moving head, so that pushing and popping do not allocate once it has grown.
type queue struct {
	buf   []entry
	head  int
	bytes int // sum of size()
}

func (q *queue) len() int         { return len(q.buf) - q.head }
func (q *queue) items() []entry   { return q.buf[q.head:] }
func (q *queue) empty() bool      { return q.head == len(q.buf) }
func (q *queue) push(e entry)     { q.compact(); q.buf = append(q.buf, e); q.bytes += e.size() }
func (q *queue) popFront() entry  { e := q.buf[q.head]; q.discard(1); return e }
func (q *queue) frontSeq() uint64 { return q.buf[q.head].seq }

// discard removes n events from the front, releasing their messages.
func (q *queue) discard(n int) {
	for i := q.head; i < q.head+n; i++ {
		q.bytes -= q.buf[i].size()
		q.buf[i] = entry{}
	}
	q.head += n
	if q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
	}
}

// compact moves the live events to the start when the slice is full and at
// least half of it is already consumed, instead of growing it.
func (q *queue) compact() {
	if len(q.buf) < cap(q.buf) || q.head < len(q.buf)/2 {
		return
	}
	n := copy(q.buf, q.buf[q.head:])
	clear(q.buf[n:])
	q.buf, q.head = q.buf[:n], 0
}
