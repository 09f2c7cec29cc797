package shipper

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Console copies lines to a writer (the serial console in a VM, a terminal
// or stderr elsewhere) without ever making the caller wait: lines go into a
// bounded buffer that a goroutine writes out, and when the writer cannot
// keep up, new lines are dropped and counted.
type Console struct {
	w       io.Writer
	limit   int
	mu      sync.Mutex
	buf     []byte
	spare   []byte
	writing int // bytes handed to the writer and not written yet
	ready   chan struct{}
	done    chan struct{}
	closed  bool
	dropped atomic.Int64
}

// NewConsole starts a console sink over w holding at most limit bytes
// (default 1 MiB when limit <= 0).
func NewConsole(w io.Writer, limit int) *Console {
	if limit <= 0 {
		limit = 1 << 20
	}
	c := &Console{w: w, limit: limit, ready: make(chan struct{}, 1), done: make(chan struct{})}
	go c.run()
	return c
}

// WriteLine queues line plus a newline, or drops it if the buffer is full.
func (c *Console) WriteLine(line []byte) {
	c.mu.Lock()
	if c.closed || len(c.buf)+len(line)+1 > c.limit {
		c.mu.Unlock()
		c.dropped.Add(1)
		return
	}
	c.buf = append(c.buf, line...)
	c.buf = append(c.buf, '\n')
	select { // under mu: Close cannot close ready meanwhile
	case c.ready <- struct{}{}:
	default:
	}
	c.mu.Unlock()
}

// Write queues p as it is (a chunk of a stream, not one line), or drops it
// whole if the buffer is full. It never blocks and never fails, so that a
// pipe's reader can copy what it reads to the console at no risk.
func (c *Console) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.closed || len(c.buf)+len(p) > c.limit {
		c.mu.Unlock()
		c.dropped.Add(1)
		return len(p), nil
	}
	c.buf = append(c.buf, p...)
	select { // under mu: Close cannot close ready meanwhile
	case c.ready <- struct{}{}:
	default:
	}
	c.mu.Unlock()
	return len(p), nil
}

// Dropped is the number of lines (or chunks given to Write) dropped because
// the writer was slow.
func (c *Console) Dropped() int64 { return c.dropped.Load() }

func (c *Console) run() {
	defer close(c.done)
	defer func() {
		// A writer that panics ends the console, not the process (it may
		// be PID 1): later lines are counted as dropped.
		if recover() != nil {
			c.mu.Lock()
			c.closed = true
			c.mu.Unlock()
		}
	}()
	for {
		_, open := <-c.ready
		for {
			c.mu.Lock()
			out := c.buf
			c.buf, c.spare, c.writing = c.spare[:0], nil, len(out)
			c.mu.Unlock()
			if len(out) == 0 {
				break
			}
			c.w.Write(out) // a console that fails is not worth stopping for
			c.mu.Lock()
			c.spare, c.writing = out, 0
			c.mu.Unlock()
		}
		if !open {
			return
		}
	}
}

// Close writes what is buffered and stops; it waits for the writer.
func (c *Console) Close() {
	c.stop()
	<-c.done
}

// CloseWithin is Close that waits at most d for the writer: a console
// nobody reads (a paused `| less`, a wedged collector) must not hold its
// owner's exit. The error says how much was left unwritten.
func (c *Console) CloseWithin(d time.Duration) error {
	c.stop()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.done:
		return nil
	case <-t.C:
	}
	c.mu.Lock()
	left := len(c.buf) + c.writing
	c.mu.Unlock()
	return fmt.Errorf("console: up to %d bytes not written within %v: its reader does not keep up", left, d)
}

func (c *Console) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.ready)
	}
}
