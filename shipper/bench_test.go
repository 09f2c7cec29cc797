package shipper

import (
	"context"
	"testing"
	"time"

	"github.com/keelvm/keel/shipper/cwlsdk"
)

// BenchmarkLogJSON measures the hot path: format, redact, queue, batch, and
// a service that accepts at once.
func BenchmarkLogJSON(b *testing.B) {
	s, err := New(Config{Client: cwlsdk.Wrap(newFake()), Group: "g", Stream: "s", Instance: "i-0123456789abcdef0", Image: "app"})
	if err != nil {
		b.Fatal(err)
	}
	ev := Event{Level: "INFO", Source: "stdout", Message: "0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 012345678"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Log(ev)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s.Close(ctx)
}
