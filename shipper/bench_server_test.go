package shipper_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/keelvm/keel/shipper"
	"github.com/keelvm/keel/shipper/cwlsdk"
)

// BenchmarkPipeToServer is the path of `keel ship`: 100-byte lines written
// to a Pipe in 256 KiB chunks, json events, delivered to the local server
// with SigV4 through the SDK. b.N is the number of lines; the figure
// includes the wait for the last acknowledgement.
func BenchmarkPipeToServer(b *testing.B) {
	client := cwlsdk.Wrap(sdkClient(localServer(b)))
	s, err := shipper.New(shipper.Config{Client: client, Group: "bench", Stream: "pipe", Instance: "i-0123456789abcdef0", Image: "app",
		BufferBytes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	line := "0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 012345678\n"
	chunk := bytes.Repeat([]byte(line), (256<<10)/len(line))
	per := len(chunk) / len(line)
	p := s.Pipe("INFO", "stdout")
	b.SetBytes(int64(len(line)))
	b.ResetTimer()
	for n := 0; n < b.N; n += per {
		p.Write(chunk[:min(per, b.N-n)*len(line)])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if st := s.Stats(); st.Sent != b.N || st.Dropped != 0 {
		b.Fatalf("stats %+v for %d lines", st, b.N)
	}
}
