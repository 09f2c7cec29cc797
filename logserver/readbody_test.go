package logserver

import (
	"fmt"
	"net"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"
)

// TestContentLengthNotTrusted: a client that only announces a large
// Content-Length (no body, no signature) does not make the server
// allocate that much before the bytes come: 40 such connections grew its
// heap by 280 MiB.
func TestContentLengthNotTrusted(t *testing.T) {
	s := newDirectServer(t)
	hs := httptest.NewServer(s)
	defer hs.Close()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const conns = 40
	for range conns {
		c, err := net.Dial("tcp", hs.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Logs_20140328.PutLogEvents\r\nContent-Length: %d\r\n\r\n{", 7<<20)
	}
	time.Sleep(500 * time.Millisecond)
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d connections that sent 1 byte of body each: heap grew %d MiB", conns, grew>>20)
	if grew > 64<<20 {
		t.Errorf("heap grew %d MiB for %d bytes received", grew>>20, conns)
	}
}
