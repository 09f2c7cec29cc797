package logserver

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkDecodePutFast decodes a 1 MiB request of keel's json-format
// events, whose messages are JSON objects and so full of escaped quotes:
// the body the ship benchmark's server spends most of its time on.
func BenchmarkDecodePutFast(b *testing.B) {
	var body strings.Builder
	body.WriteString(`{"logGroupName":"g","logStreamName":"s","logEvents":[`)
	for i := 0; body.Len() < 1<<20-300; i++ {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"timestamp":%d,"message":"{\"instance\":\"i-0123456789\",\"image\":\"app:1\",\"level\":\"INFO\",\"source\":\"stdout\",\"message\":\"line %d 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789\"}"}`, 1700000000000+i, i)
	}
	body.WriteString(`]}`)
	raw := []byte(body.String())
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var in putLogEventsInput
		if !decodePutFast(raw, &in) {
			b.Fatal("fast path refused the body")
		}
	}
}

// TestPlainRun checks the eight-bytes-at-a-time scan against the plain
// loop, for every byte value at every offset of a 24-byte run.
func TestPlainRun(t *testing.T) {
	naive := func(b []byte, i int) int {
		for ; i < len(b); i++ {
			if c := b[i]; c == '"' || c == '\\' || c < ' ' || c >= 0x80 {
				return i
			}
		}
		return i
	}
	b := []byte(strings.Repeat("a", 24))
	for pos := range b {
		for c := 0; c < 256; c++ {
			b[pos] = byte(c)
			for start := 0; start <= len(b); start++ {
				if got, want := plainRun(b, start), naive(b, start); got != want {
					t.Fatalf("plainRun(%q, %d) = %d, want %d", b, start, got, want)
				}
			}
		}
		b[pos] = 'a'
	}
}
