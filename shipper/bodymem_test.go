package shipper

import (
	"strings"
	"testing"
)

// TestSpareBodiesStayOrdinary: a burst of control characters (six bytes
// each once escaped) grows request bodies far beyond an ordinary request;
// kept for reuse, they would hold that memory, counted against the
// buffer's bound, for good.
func TestSpareBodiesStayOrdinary(t *testing.T) {
	s := newShipper(t, newFake(), func(c *Config) { c.InFlight = 4 })
	ctl := strings.Repeat("\x01", 1000)
	for range 20_000 {
		s.Log(Event{Message: ctl})
	}
	flush(t, s)
	s.mu.Lock()
	held, spares := s.bodyBytes, len(s.spare)
	s.mu.Unlock()
	if most := (s.cfg.InFlight + 1) * (2*maxBatchBytes + 4096 + 64<<10); held > most {
		t.Fatalf("%d spare bodies hold %d bytes after the burst, want at most %d", spares, held, most)
	}
}
