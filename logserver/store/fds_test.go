package store

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// TestStreamsDoNotHoldDescriptors creates and writes many streams: the
// store must not keep a descriptor per stream, or a key allowed to create
// streams could exhaust the process's limit and stop the server restarting.
func TestStreamsDoNotHoldDescriptors(t *testing.T) {
	dir := t.TempDir()
	count := func() int { return openFDs(t) }
	before := count()
	s := openStore(t, dir, Options{NoSync: true})
	const n = 2 * maxOpenWrites
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("s%d", i)
		newStream(t, s, "g", name)
		appendT(t, s, "g", name, Event{Timestamp: 1, Message: "x"})
	}
	if open := count() - before; open > maxOpenWrites+16 {
		t.Fatalf("%d descriptors open after writing %d streams (bound %d)", open, n, maxOpenWrites)
	}
	s.Close()
	s2 := openStore(t, dir, Options{NoSync: true})
	if open := count() - before; open > 16 {
		t.Fatalf("%d descriptors open after reopening", open)
	}
	appendT(t, s2, "g", "s7", Event{Timestamp: 2, Message: "y"})
}

// TestRetentionDoesNotHoldDescriptors expires many idle streams: sealing an
// expired active segment starts a new, empty one, and that must not leave a
// write descriptor open per stream (they would add up to one per stream
// with a retention, past maxOpenWrites).
func TestRetentionDoesNotHoldDescriptors(t *testing.T) {
	clk := newClock()
	count := func() int { return openFDs(t) }
	before := count()
	s := openStore(t, t.TempDir(), Options{NoSync: true, Now: clk.Now})
	must(t, s.CreateGroup("g", nil))
	must(t, s.SetRetention("g", 1))
	const n = 2 * maxOpenWrites
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("s%d", i)
		must(t, s.CreateStream("g", name))
		appendT(t, s, "g", name, Event{Timestamp: clk.Now().UnixMilli(), Message: "x"})
	}
	clk.Advance(2 * 24 * time.Hour)
	must(t, s.EnforceRetention())
	if open := count() - before; open > maxOpenWrites+16 {
		t.Fatalf("%d descriptors open after retention sealed %d idle streams (bound %d)", open, n, maxOpenWrites)
	}
	// The streams still take appends.
	appendT(t, s, "g", "s7", Event{Timestamp: clk.Now().UnixMilli(), Message: "y"})
}

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}
