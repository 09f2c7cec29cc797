package shipper

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// TestMemoryBoundEscapes: the memory bound holds while the service hangs,
// whatever the lines hold. A control character counts one byte for the
// service and takes six in a request's JSON (\u001b): requests were cut by
// the service's count alone, and with a small buffer the four in flight
// held 2.5 times the bound.
func TestMemoryBoundEscapes(t *testing.T) {
	for _, tc := range []struct {
		name, format, line string
		buf                int
	}{
		{"text, plain, 32 MiB", FormatText, strings.Repeat("x", 100), 32 << 20},
		{"text, control characters, 1 MiB", FormatText, strings.Repeat("\x1b", 100), 1 << 20},
		{"text, control characters, 32 MiB", FormatText, strings.Repeat("\x1b", 100), 32 << 20},
		{"json, control characters, 4 MiB", FormatJSON, strings.Repeat("\x01", 100), 4 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			hang := make(chan struct{})
			defer close(hang)
			f.failPut = func(int, *cwl.PutLogEventsInput) error {
				select {
				case <-hang: // the test is over: let Close flush at once
					return nil
				case <-time.After(time.Minute):
					return errors.New("hung")
				}
			}
			s := newShipper(t, f, func(c *Config) { c.BufferBytes = tc.buf; c.Format = tc.format; c.Linger = time.Millisecond })
			p := s.Pipe("INFO", "stdout")
			chunk := []byte(strings.Repeat(tc.line+"\n", (64<<10)/(len(tc.line)+1)))
			peak, parts := 0, ""
			for i := 0; i < 400; i++ {
				p.Write(chunk)
				if i%10 == 0 {
					time.Sleep(time.Millisecond)
				}
				s.mu.Lock()
				if m := s.memory(); m > peak {
					peak = m
					parts = fmt.Sprintf("queued %d, free %d, claimed %d, requests %d, sort %d", s.in.bytes, s.in.freeBytes, s.claimedBytes, s.bodyBytes, s.sortBytes)
				}
				s.mu.Unlock()
			}
			time.Sleep(100 * time.Millisecond)
			s.mu.Lock()
			peak = max(peak, s.memory())
			s.mu.Unlock()
			if peak > tc.buf {
				t.Errorf("memory peaked at %d, over the bound %d (%.2fx): %s; stats %+v", peak, tc.buf, float64(peak)/float64(tc.buf), parts, s.Stats())
			}
		})
	}
}
