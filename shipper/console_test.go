package shipper

import (
	"bytes"
	"fmt"
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
