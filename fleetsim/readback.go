package fleetsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// readBack reads every instance's stream from the head and checks each
// line: in its own instance's stream, exactly once, none missing. The
// server's ingestion time says when a line became readable.
func readBack(c *cwl.Client, insts []*instance, res *Result) error {
	var mu sync.Mutex
	var firstErr error
	work := make(chan *instance)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for in := range work {
				lat, all, seen, bad, err := readStream(c, in)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				res.Latency = append(res.Latency, lat...)
				res.LatencyAll = append(res.LatencyAll, all...)
				res.Misplaced += bad
				for _, k := range seen {
					if k > 1 {
						res.Duplicates += k - 1
					}
					if k > 0 {
						res.Read++
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, in := range insts {
		work <- in
	}
	close(work)
	wg.Wait()
	slices.Sort(res.Latency)
	slices.Sort(res.LatencyAll)
	res.Lost = res.Logged - res.Read
	return firstErr
}

// readStream returns the latencies of an instance's lines (those logged
// once its stream was ready, and all), how often each line number was
// seen, and how many events were not its lines.
func readStream(c *cwl.Client, in *instance) (lat, all []time.Duration, seen []int, bad int, err error) {
	seen = make([]int, in.logged)
	var token *string
	for {
		out, err := c.GetLogEvents(context.Background(), &cwl.GetLogEventsInput{LogGroupName: aws.String(group),
			LogStreamName: aws.String(in.stream), StartFromHead: aws.Bool(true), NextToken: token})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, nil, seen, 0, nil // never created: every line lost
		}
		if err != nil {
			return nil, nil, nil, 0, fmt.Errorf("read back %s: %w", in.stream, err)
		}
		for _, e := range out.Events {
			var env struct {
				Message string `json:"message"`
			}
			var id, n int
			var t int64
			if json.Unmarshal([]byte(*e.Message), &env) != nil {
				bad++
				continue
			}
			if _, err := fmt.Sscanf(env.Message, "i=%d n=%d t=%d", &id, &n, &t); err != nil || id != in.id || n < 0 || n >= len(seen) {
				bad++
				continue
			}
			seen[n]++
			d := time.Duration(*e.IngestionTime)*time.Millisecond - time.Duration(t)
			all = append(all, d)
			if !in.readyAt.IsZero() && time.Unix(0, t).After(in.readyAt) {
				lat = append(lat, d)
			}
		}
		if token != nil && *out.NextForwardToken == *token {
			return lat, all, seen, bad, nil
		}
		token = out.NextForwardToken
	}
}
