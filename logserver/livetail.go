package logserver

import (
	"sync"

	"github.com/keelvm/keel/logserver/store"
)

// Live tail limits of the service.
const (
	maxTailResults = 500    // results per sessionUpdate
	maxTailPending = 100000 // events buffered per session between updates
	// maxTailPendingBytes bounds them in bytes too: events are up to 1 MB,
	// and a client that stops reading holds its session for a while.
	maxTailPendingBytes = 64 << 20
)

// tailHub fans committed events out to live tail sessions. It is fed from
// the store's write path (Subscribe), so a session sees events the moment
// they are durable, without re-reading the disk. Publishing only appends to
// each interested session's buffer: pattern matching and sampling happen in
// the session's own goroutine, never under the store's commit lock.
type tailHub struct {
	mu       sync.Mutex
	sessions map[*tailSession]struct{}
}

// add registers a session unless max are open already.
func (h *tailHub) add(ts *tailSession, max int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.sessions) >= max {
		return false
	}
	if h.sessions == nil {
		h.sessions = map[*tailSession]struct{}{}
	}
	h.sessions[ts] = struct{}{}
	return true
}

func (h *tailHub) remove(ts *tailSession) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.sessions, ts)
}

func (h *tailHub) publish(group, stream string, evs []store.StoredEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ts := range h.sessions {
		ts.offer(group, stream, evs)
	}
}

type tailEvent struct {
	group, stream string
	ev            store.StoredEvent
}

// tailSession is one StartLiveTail call's selection and its buffer.
type tailSession struct {
	groups   map[string]string // group name -> identifier as the client gave it
	names    map[string]bool   // nil: any stream
	prefixes []string          // nil: any stream

	mu           sync.Mutex
	pending      []tailEvent
	pendingBytes int
	dropped      bool // the buffer overflowed since the last update
}

func (ts *tailSession) wants(group, stream string) bool {
	if _, ok := ts.groups[group]; !ok {
		return false
	}
	if ts.names != nil {
		return ts.names[stream]
	}
	if ts.prefixes != nil {
		for _, p := range ts.prefixes {
			if len(stream) >= len(p) && stream[:len(p)] == p {
				return true
			}
		}
		return false
	}
	return true
}

func (ts *tailSession) offer(group, stream string, evs []store.StoredEvent) {
	if !ts.wants(group, stream) {
		return
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, ev := range evs {
		if len(ts.pending) >= maxTailPending || ts.pendingBytes+len(ev.Message) > maxTailPendingBytes {
			ts.dropped = true
			return
		}
		ts.pending = append(ts.pending, tailEvent{group, stream, ev})
		ts.pendingBytes += len(ev.Message)
	}
}

// take returns what arrived since the last call.
func (ts *tailSession) take() ([]tailEvent, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	p, d := ts.pending, ts.dropped
	ts.pending, ts.pendingBytes, ts.dropped = nil, 0, false
	return p, d
}
