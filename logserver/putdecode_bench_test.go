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
