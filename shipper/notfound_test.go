package shipper

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/keelvm/keel/shipper/cwlsdk"
)

// TestNotFoundAfterCreateBacksOff: the stream is created (or said to exist)
// yet PutLogEvents keeps answering ResourceNotFound, as when the service
// lags or something deletes the stream as fast as it comes: retries back
// off instead of spinning.
func TestNotFoundAfterCreateBacksOff(t *testing.T) {
	f := newFake()
	var puts atomic.Int64
	f.failPut = func(int, *cwl.PutLogEventsInput) error {
		puts.Add(1)
		return &types.ResourceNotFoundException{Message: strPtr("The specified log stream does not exist.")}
	}
	s := newShipper(t, f, func(c *Config) { c.RetryBase, c.RetryMax = 100*time.Millisecond, 5*time.Second })
	s.Log(Event{Message: "line"})
	time.Sleep(time.Second)
	n := puts.Load()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	s.Close(ctx)
	// Backoff from 100 ms, doubling: a handful in a second, not thousands.
	if n > 20 {
		t.Fatalf("%d PutLogEvents calls in 1 s while the stream stays missing", n)
	}
}

// TestBadNamesRefusedAtStart: names CloudWatch Logs refuses are reported
// when the shipper is made, naming the name, not found out by every
// request.
func TestBadNamesRefusedAtStart(t *testing.T) {
	cases := []struct{ group, stream, want string }{
		{"a:b", "s", `log group "a:b"`},
		{strings.Repeat("g", 513), "s", "log group"},
		{"g", "app:1", `log stream "app:1"`},
		{"g", "a*", `log stream "a*"`},
	}
	for _, tc := range cases {
		_, err := New(Config{Client: cwlsdk.Wrap(newFake()), Group: tc.group, Stream: tc.stream})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("group %.20q stream %q: %v, want an error naming %s", tc.group, tc.stream, err, tc.want)
		}
	}
}
