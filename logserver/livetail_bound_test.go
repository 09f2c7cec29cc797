package logserver

import (
	"strings"
	"testing"

	"github.com/keelvm/keel/logserver/store"
)

// TestTailBufferBoundInBytes: a session that is not read keeps at most
// maxTailPendingBytes of large events, then counts the rest as dropped
// (the update says it sampled).
func TestTailBufferBoundInBytes(t *testing.T) {
	ts := &tailSession{groups: map[string]string{"g": "g"}}
	big := store.StoredEvent{Message: strings.Repeat("x", 1<<20)}
	for range 100 {
		ts.offer("g", "s", []store.StoredEvent{big})
	}
	got, dropped := ts.take()
	if len(got) != maxTailPendingBytes>>20 || !dropped {
		t.Fatalf("kept %d events of 1 MiB (dropped: %v), want %d and a drop", len(got), dropped, maxTailPendingBytes>>20)
	}
	if got, dropped := ts.take(); len(got) != 0 || dropped {
		t.Fatalf("after take: %d events, dropped %v", len(got), dropped)
	}
}
