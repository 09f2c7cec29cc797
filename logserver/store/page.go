package store

import (
	"cmp"
	"slices"
)

// eventOverhead is what ReadOptions.MaxBytes charges per event on top of its
// message (CloudWatch's accounting).
const eventOverhead = 26

// hitKey is an event's place in (Timestamp, Seq) order and the slot holding
// its message. It holds no pointers, so moving keys around in the heap and
// the final sort costs no GC write barriers.
type hitKey struct {
	ts   int64
	seq  uint64
	slot int32
}

func before(a, b hitKey) bool {
	return a.ts < b.ts || (a.ts == b.ts && a.seq < b.seq)
}

// pageSet keeps the best events a read has seen: "best" is earliest going
// forward and latest going backward. It holds at most limit events and, when
// maxBytes > 0, no more than fit in maxBytes, dropping the worst first. Since
// every event it will ever be offered that beats a dropped one is kept in
// preference, what it holds at the end is exactly the page.
//
// Keys are kept unordered until the set first fills up; only then is a heap
// (worst on top) needed to find what to drop.
type pageSet struct {
	backward        bool
	limit, maxBytes int

	keys    []hitKey
	heaped  bool
	msgs    []string // by slot
	ingests []int64  // by slot
	free    []int32  // slots of dropped events
	bytes   int      // charged for the events kept

	// dropped records that some event was left off the page.
	dropped bool

	// cut is the best event dropped to respect maxBytes; nothing at or
	// beyond it can be on the page any more.
	cut    hitKey
	hasCut bool
}

func (ps *pageSet) better(a, b hitKey) bool {
	if ps.backward {
		return before(b, a)
	}
	return before(a, b)
}

// bound returns the event that a newcomer must be better than to be kept, if
// there is one yet.
func (ps *pageSet) bound() (hitKey, bool) {
	full := ps.full()
	switch {
	case full && ps.hasCut:
		if ps.better(ps.keys[0], ps.cut) {
			return ps.keys[0], true
		}
		return ps.cut, true
	case full:
		return ps.keys[0], true
	case ps.hasCut:
		return ps.cut, true
	}
	return hitKey{}, false
}

// full reports whether a newcomer must displace a kept event: the count is
// at the limit, or no further event (charged at least eventOverhead) fits.
// The keys are a heap whenever full.
func (ps *pageSet) full() bool {
	return len(ps.keys) >= ps.limit || (ps.maxBytes > 0 && len(ps.keys) > 0 && ps.bytes+eventOverhead > ps.maxBytes)
}

// add keeps an event that beats bound().
func (ps *pageSet) add(h hitKey, msg string, ingest int64) {
	if ps.keys == nil {
		n := min(ps.limit, 256)
		ps.keys, ps.msgs, ps.ingests = make([]hitKey, 0, n), make([]string, 0, n), make([]int64, 0, n)
	}
	if len(ps.keys) >= ps.limit {
		ps.dropped = true
		w := ps.keys[0]
		ps.bytes -= len(ps.msgs[w.slot]) + eventOverhead
		h.slot = w.slot
		ps.msgs[h.slot], ps.ingests[h.slot] = msg, ingest
		ps.keys[0] = h
		ps.down(0)
	} else {
		if n := len(ps.free); n > 0 {
			h.slot = ps.free[n-1]
			ps.free = ps.free[:n-1]
			ps.msgs[h.slot], ps.ingests[h.slot] = msg, ingest
		} else {
			h.slot = int32(len(ps.msgs))
			ps.msgs = append(ps.msgs, msg)
			ps.ingests = append(ps.ingests, ingest)
		}
		ps.keys = append(ps.keys, h)
		if ps.heaped {
			ps.up(len(ps.keys) - 1)
		}
	}
	ps.bytes += len(msg) + eventOverhead
	if !ps.heaped && ps.full() {
		ps.heapify()
	}
	for ps.maxBytes > 0 && ps.bytes > ps.maxBytes {
		if !ps.heaped {
			ps.heapify()
		}
		w := ps.keys[0]
		last := len(ps.keys) - 1
		ps.keys[0] = ps.keys[last]
		ps.keys = ps.keys[:last]
		ps.down(0)
		ps.bytes -= len(ps.msgs[w.slot]) + eventOverhead
		ps.msgs[w.slot] = ""
		ps.free = append(ps.free, w.slot)
		ps.dropped = true
		if !ps.hasCut || ps.better(w, ps.cut) {
			ps.cut, ps.hasCut = w, true
		}
	}
}

// worse orders the heap: the worst kept event is on top.
func (ps *pageSet) worse(i, j int) bool { return ps.better(ps.keys[j], ps.keys[i]) }

func (ps *pageSet) heapify() {
	ps.heaped = true
	for i := len(ps.keys)/2 - 1; i >= 0; i-- {
		ps.down(i)
	}
}

func (ps *pageSet) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !ps.worse(i, p) {
			return
		}
		ps.keys[i], ps.keys[p] = ps.keys[p], ps.keys[i]
		i = p
	}
}

func (ps *pageSet) down(i int) {
	n := len(ps.keys)
	for {
		m := 2*i + 1
		if m >= n {
			return
		}
		if r := m + 1; r < n && ps.worse(r, m) {
			m = r
		}
		if !ps.worse(m, i) {
			return
		}
		ps.keys[i], ps.keys[m] = ps.keys[m], ps.keys[i]
		i = m
	}
}

// events returns the kept events in ascending (Timestamp, Seq) order.
func (ps *pageSet) events(streamID uint64) []StoredEvent {
	slices.SortFunc(ps.keys, func(a, b hitKey) int {
		if c := cmp.Compare(a.ts, b.ts); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := make([]StoredEvent, len(ps.keys))
	for i, k := range ps.keys {
		out[i] = StoredEvent{Timestamp: k.ts, IngestionTime: ps.ingests[k.slot], Message: ps.msgs[k.slot], StreamID: streamID, Seq: k.seq}
	}
	return out
}
