package logserver

import (
	"container/heap"

	"github.com/keelvm/keel/logserver/store"
)

// Each stream is read in batches, on demand: its share of a page, but no
// less than these, so that a page over many streams holds a small batch per
// stream plus the page, not a page's worth per stream (a group may have
// thousands of streams, each able to fill a page), and a page over one
// stream is one read.
const (
	mergeBatch      = 64       // events per read of one stream, at least
	mergeBatchBytes = 16 << 10 // and message bytes; a larger event is read alone
)

// mergeStreams returns the first page of events after from in (timestamp,
// stream id, seq) order across streams, and whether more may follow: a
// k-way merge of the streams, each read a batch at a time as the page
// reaches it. The page ends at limit events or maxResponseBytes.
func (s *Server) mergeStreams(group string, streams []store.Stream, rng store.Range, from *eventPos, limit int, minTS int64, match func([]byte) bool) ([]namedEvent, bool, error) {
	n := max(1, len(streams))
	batch, batchBytes := min(limit, max(mergeBatch, limit/n)), max(mergeBatchBytes, maxResponseBytes/n)
	h := &cursorHeap{}
	for _, st := range streams {
		c := &cursor{s: s, group: group, stream: st, more: true, opts: store.ReadOptions{Range: rng, Limit: batch,
			MaxBytes: batchBytes, MinTimestamp: minTS, Match: match}}
		if from != nil {
			c.opts.After = resumeIn(st.ID, *from)
		}
		ok, err := c.fill()
		if err != nil {
			return nil, false, err
		}
		if ok {
			*h = append(*h, c)
		}
	}
	heap.Init(h)
	var page []namedEvent
	size := 0
	for h.Len() > 0 {
		c := (*h)[0]
		ev := c.buf[c.i]
		if len(page) == limit || size+len(ev.Message)+eventOverhead > maxResponseBytes {
			return page, true, nil
		}
		page = append(page, ev)
		size += len(ev.Message) + eventOverhead
		c.i++
		if c.i < len(c.buf) {
			heap.Fix(h, 0)
			continue
		}
		ok, err := c.fill()
		if err != nil {
			return nil, false, err
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	return page, false, nil
}

// cursor is one stream's place in a merge: its current batch and where the
// next read resumes.
type cursor struct {
	s      *Server
	group  string
	stream store.Stream
	opts   store.ReadOptions
	buf    []namedEvent
	i      int
	more   bool // the stream may hold events after buf (true before the first read)
}

// fill reads the stream's next batch; it reports false when the stream has
// nothing more (or was deleted meanwhile: it has nothing more to say).
func (c *cursor) fill() (bool, error) {
	if !c.more {
		return false, nil
	}
	evs, more, err := c.s.store.ReadPage(c.group, c.stream.Name, c.opts)
	if err == nil && len(evs) == 0 && more {
		// Its next event is larger than a batch's bytes: read it alone.
		opts := c.opts
		opts.MaxBytes = maxResponseBytes
		evs, more, err = c.s.store.ReadPage(c.group, c.stream.Name, opts)
	}
	if err != nil {
		if isGone(err) {
			return false, nil
		}
		return false, err
	}
	c.buf, c.i, c.more = c.buf[:0], 0, more
	for _, ev := range evs {
		c.buf = append(c.buf, namedEvent{ev, c.stream.Name})
	}
	if len(evs) == 0 {
		return false, nil
	}
	last := evs[len(evs)-1]
	c.opts.After = &store.Position{Timestamp: last.Timestamp, Seq: last.Seq}
	return true, nil
}

// cursorHeap orders cursors by their current event.
type cursorHeap []*cursor

func (h cursorHeap) Len() int           { return len(h) }
func (h cursorHeap) Less(i, j int) bool { return h[i].buf[h[i].i].before(h[j].buf[h[j].i]) }
func (h cursorHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)        { *h = append(*h, x.(*cursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
