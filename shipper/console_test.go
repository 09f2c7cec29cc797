package shipper

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// stuckWriter blocks until released, as a console nobody reads.
type stuckWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (w *stuckWriter) Write(p []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func TestConsoleNeverBlocks(t *testing.T) {
	w := &stuckWriter{release: make(chan struct{})}
	c := NewConsole(w, 4096)
	start := time.Now()
	for i := 0; i < 10_000; i++ {
		c.WriteLine([]byte(fmt.Sprintf("line %d", i)))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("writes took %v", d)
	}
	if c.Dropped() == 0 {
		t.Fatal("nothing dropped with a stuck console")
	}
	close(w.release)
	c.Close()
	lines := bytes.Count(w.buf.Bytes(), []byte("\n"))
	if int64(lines)+c.Dropped() != 10_000 {
		t.Fatalf("%d written + %d dropped != 10000", lines, c.Dropped())
	}
	c.WriteLine([]byte("after close")) // dropped, no panic
}

// TestConsoleCloseWithin: a console nobody reads (a paused `| less`) must
// not hold its owner's exit: CloseWithin gives up after its bound and
// says how much it could not write.
func TestConsoleCloseWithin(t *testing.T) {
	w := &stuckWriter{release: make(chan struct{})}
	defer close(w.release)
	c := NewConsole(w, 4096)
	c.WriteLine([]byte("first")) // taken by the writer, which blocks
	time.Sleep(20 * time.Millisecond)
	c.WriteLine([]byte("second"))
	start := time.Now()
	err := c.CloseWithin(100 * time.Millisecond)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("CloseWithin took %v", d)
	}
	if err == nil || !strings.Contains(err.Error(), "13 bytes") { // "first\n" in the writer's hands, "second\n" queued
		t.Fatalf("CloseWithin with a stuck writer: %v, want 13 bytes unwritten", err)
	}

	ok := NewConsole(&bytes.Buffer{}, 0)
	ok.WriteLine([]byte("line"))
	if err := ok.CloseWithin(time.Second); err != nil {
		t.Fatalf("a console that keeps up: %v", err)
	}
}
