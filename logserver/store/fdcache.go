package store

import (
	"container/list"
	"os"
	"sync"
)

// maxIdleReadFiles bounds the read descriptors kept open between reads. A
// store may hold many thousands of segments, so keeping one descriptor per
// segment is not an option, but the few that are read over and over (the
// active segments of tailed streams, the last hours of busy ones) should not
// cost an open and a close on every read.
const maxIdleReadFiles = 256

// fdCache shares read-only descriptors of segment files between reads and
// keeps the least recently used idle ones open, up to maxIdleReadFiles.
type fdCache struct {
	mu     sync.Mutex
	idle   list.List // of *segment whose rf has no users; front = most recent
	closed bool
}

// readFile holds the cache's fields of a segment; guarded by fdCache.mu.
type readFile struct {
	f     *os.File
	users int
	elem  *list.Element // in fdCache.idle while users == 0
	dead  bool          // the segment's files are unlinked
}

// get returns a descriptor for g. The caller holds a reference on g (so its
// file still exists) and must call put when done.
func (c *fdCache) get(g *segment) (*os.File, error) {
	c.mu.Lock()
	if rf := &g.rf; rf.f != nil {
		if rf.elem != nil {
			c.idle.Remove(rf.elem)
			rf.elem = nil
		}
		rf.users++
		c.mu.Unlock()
		return rf.f, nil
	}
	c.mu.Unlock()

	f, err := os.Open(g.path)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rf := &g.rf
	if rf.f != nil {
		// Another read opened it meanwhile; share that one.
		f.Close()
		if rf.elem != nil {
			c.idle.Remove(rf.elem)
			rf.elem = nil
		}
	} else {
		rf.f = f
	}
	rf.users++
	return rf.f, nil
}

func (c *fdCache) put(g *segment) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rf := &g.rf
	rf.users--
	if rf.users > 0 {
		return
	}
	if rf.dead || c.closed {
		rf.f.Close()
		rf.f = nil
		return
	}
	rf.elem = c.idle.PushFront(g)
	for c.idle.Len() > maxIdleReadFiles {
		old := c.idle.Remove(c.idle.Back()).(*segment)
		old.rf.f.Close()
		old.rf.f, old.rf.elem = nil, nil
	}
}

// drop closes g's descriptor once its files are unlinked, so that the disk
// space is freed. No read uses it then: unlinking waits for the last one.
func (c *fdCache) drop(g *segment) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rf := &g.rf
	rf.dead = true
	if rf.f != nil && rf.users == 0 {
		c.idle.Remove(rf.elem)
		rf.f.Close()
		rf.f, rf.elem = nil, nil
	}
}

// close closes the idle descriptors; those in use close when put.
func (c *fdCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for e := c.idle.Front(); e != nil; e = e.Next() {
		g := e.Value.(*segment)
		g.rf.f.Close()
		g.rf.f, g.rf.elem = nil, nil
	}
	c.idle.Init()
}
