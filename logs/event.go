package logs

import (
	"hash/fnv"
	"strconv"
)

// Event is one log event as delivered to the caller.
type Event struct {
	Group, Stream string
	Timestamp     int64 // ms
	IngestionTime int64 // ms
	Message       string
	ID            string // eventId when the source gives one (FilterLogEvents)
}

// key identifies an event across sources that do and do not carry eventIds:
// live tail results have none, so the key is built from what both share.
func (e Event) key() string {
	h := fnv.New64a()
	h.Write([]byte(e.Message))
	return e.Stream + "\x00" + strconv.FormatInt(e.Timestamp, 10) + "\x00" +
		strconv.FormatInt(e.IngestionTime, 10) + "\x00" + strconv.FormatUint(h.Sum64(), 36)
}

// dedup remembers recently delivered events so that overlapping reads (the
// inclusive start of a poll, history against live, a catch-up after a
// reconnect) deliver each event once.
//
// Identical events (same stream, timestamp, ingestion time and message)
// are legitimate: an app may print one line twice in a millisecond. So
// dedup counts: within one read (a pass) the n-th occurrence of a key is new
// only if fewer than n were delivered before. A pass must see every event of
// a timestamp or none, which time-range reads do.
//
// It forgets keys older than window behind the newest timestamp, which
// bounds its memory.
type dedup struct {
	window int64
	seen   map[string]seenKey
	newest int64
	adds   int
}

type seenKey struct {
	ts    int64
	count int
}

func newDedup(windowMs int64) *dedup { return &dedup{window: windowMs, seen: map[string]seenKey{}} }

// pass is one read's view of the dedup state.
type pass struct {
	d   *dedup
	occ map[string]int
}

func (d *dedup) pass() *pass { return &pass{d: d, occ: map[string]int{}} }

// first reports whether e has not been delivered yet, and records it.
func (p *pass) first(e Event) bool {
	k := e.key()
	p.occ[k]++
	s := p.d.seen[k]
	if p.occ[k] <= s.count {
		return false
	}
	p.d.seen[k] = seenKey{ts: e.Timestamp, count: p.occ[k]}
	if e.Timestamp > p.d.newest {
		p.d.newest = e.Timestamp
	}
	if p.d.adds++; p.d.adds%4096 == 0 {
		p.d.forget()
		for k := range p.occ {
			if _, ok := p.d.seen[k]; !ok {
				delete(p.occ, k)
			}
		}
	}
	return true
}

func (d *dedup) forget() {
	for k, s := range d.seen {
		if s.ts < d.newest-d.window {
			delete(d.seen, k)
		}
	}
}
