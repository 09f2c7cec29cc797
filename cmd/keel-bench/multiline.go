package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/keelvm/keel/shipper"
	"github.com/keelvm/keel/shipper/cwlsdk"
)

// benchMultiline measures what multiline grouping (auto, the default)
// costs the shipper's batcher, in process: the same 1,000,000 lines (an
// application's log lines, a 21-line Java trace after every 500th) go
// through a Pipe with grouping auto and off, to a client that accepts
// every request at once; pairs alternate, and the median pair is taken.
func benchMultiline(string, int) error {
	var in strings.Builder
	trace := "Exception in thread \"main\" java.lang.IllegalStateException: boom\n" +
		strings.Repeat("\tat com.example.Service.handle(Service.java:42)\n", 20)
	lines := 0
	for i := 0; lines < 1_000_000; i++ {
		fmt.Fprintf(&in, "INFO request served path=/api/users/%d status=200 latency_ms=3 bytes=512\n", i)
		lines++
		if i%500 == 499 {
			in.WriteString(trace)
			lines += 21
		}
	}
	input := []byte(in.String())
	run := func(mode string) (time.Duration, shipper.Stats, error) {
		s, err := shipper.New(shipper.Config{Client: cwlsdk.Wrap(acceptAll{}), Group: "g", Stream: "s", Multiline: mode,
			BufferBytes: 512 << 20})
		if err != nil {
			return 0, shipper.Stats{}, err
		}
		p := s.Pipe("INFO", "stdout")
		start := time.Now()
		for rest := input; len(rest) > 0; {
			n := min(len(rest), 64<<10)
			p.Write(rest[:n])
			rest = rest[n:]
		}
		p.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			return 0, shipper.Stats{}, err
		}
		return time.Since(start), s.Stats(), nil
	}
	var ratios []float64
	var auto time.Duration
	var events int
	for range 5 {
		off, stOff, err := run(shipper.MultilineOff)
		if err != nil {
			return err
		}
		on, stOn, err := run(shipper.MultilineAuto)
		if err != nil {
			return err
		}
		if stOff.Sent != lines || stOn.Sent+stOn.Joined != lines || stOn.Joined != lines/521*20 {
			return fmt.Errorf("lines lost or not grouped: off %+v, auto %+v", stOff, stOn)
		}
		ratios = append(ratios, on.Seconds()/off.Seconds())
		auto, events = on, stOn.Sent
	}
	slices.Sort(ratios)
	report("ship.multiline_auto_vs_off_time_ratio", ratios[len(ratios)/2], "x")
	report("ship.multiline_auto_events_per_s", float64(events)/auto.Seconds(), "events/s")
	return nil
}

// acceptAll is a CloudWatch Logs that accepts every request at once.
type acceptAll struct{}

func (acceptAll) PutLogEvents(context.Context, *cwl.PutLogEventsInput, ...func(*cwl.Options)) (*cwl.PutLogEventsOutput, error) {
	return &cwl.PutLogEventsOutput{}, nil
}

func (acceptAll) CreateLogGroup(context.Context, *cwl.CreateLogGroupInput, ...func(*cwl.Options)) (*cwl.CreateLogGroupOutput, error) {
	return &cwl.CreateLogGroupOutput{}, nil
}

func (acceptAll) CreateLogStream(context.Context, *cwl.CreateLogStreamInput, ...func(*cwl.Options)) (*cwl.CreateLogStreamOutput, error) {
	return &cwl.CreateLogStreamOutput{}, nil
}

func (acceptAll) PutRetentionPolicy(context.Context, *cwl.PutRetentionPolicyInput, ...func(*cwl.Options)) (*cwl.PutRetentionPolicyOutput, error) {
	return &cwl.PutRetentionPolicyOutput{}, nil
}
