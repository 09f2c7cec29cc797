package shipper_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/keelvm/keel/internal/testutil"
	"github.com/keelvm/keel/logserver"
	"github.com/keelvm/keel/shipper"
)

// quotaServer is the local server with the given quotas, its answers
// counted.
func quotaServer(t *testing.T, q logserver.Quotas) (string, *testutil.Answers) {
	t.Helper()
	ans := &testutil.Answers{}
	st, stop, err := logserver.Start(logserver.RunConfig{Addr: "127.0.0.1:0", DataDir: t.TempDir(), AuthNone: true,
		Logger: slog.New(ans), Quotas: q})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return st.Endpoint, ans
}

// throttleRun ships 800 numbered lines, 20 every 100 ms, to a new stream
// of a server with quotas q, and returns the server's answers and the
// shipper's stats; every line must be in the stream exactly once.
func throttleRun(t *testing.T, transport func(testing.TB, string) shipper.API, q logserver.Quotas, drainCreate bool) (*testutil.Answers, shipper.Stats) {
	endpoint, ans := quotaServer(t, q)
	client := sdkClient(endpoint)
	ctx := context.Background()
	if _, err := client.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("t")}); err != nil {
		t.Fatal(err)
	}
	if drainCreate {
		// Another instance's creation takes the only token.
		if _, err := client.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("t"), LogStreamName: aws.String("other")}); err != nil {
			t.Fatal(err)
		}
	}
	var notices []string
	var nmu sync.Mutex
	s, err := shipper.New(shipper.Config{Client: transport(t, endpoint), Group: "t", Stream: "app", Format: shipper.FormatText,
		Notice: func(m string) { nmu.Lock(); notices = append(notices, m); nmu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	const lines = 800
	start := time.Now()
	for i := 0; i < lines; i++ {
		if i%20 == 0 {
			time.Sleep(time.Until(start.Add(time.Duration(i/20) * 100 * time.Millisecond)))
		}
		took := time.Now()
		s.Log(shipper.Event{Message: fmt.Sprintf("line %d", i)})
		if d := time.Since(took); d > 50*time.Millisecond {
			t.Errorf("Log took %v while throttled: it must never wait", d)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := s.Close(cctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	st := s.Stats()
	if st.Sent != lines || st.Dropped != 0 || st.Lost != 0 {
		t.Errorf("stats %+v: want all %d lines sent", st, lines)
	}
	seen := map[string]int{}
	for _, m := range readAll(t, client, "t", "app") {
		seen[m]++
	}
	for i := 0; i < lines; i++ {
		if n := seen[fmt.Sprintf("line %d", i)]; n != 1 {
			t.Errorf("line %d is in the stream %d times", i, n)
		}
	}
	if len(seen) != lines {
		t.Errorf("%d distinct messages in the stream, want %d", len(seen), lines)
	}
	nmu.Lock()
	t.Logf("stats %+v; notices %q", st, notices)
	nmu.Unlock()
	return ans, st
}

// readAll reads a stream from its head.
func readAll(t *testing.T, c *cwl.Client, group, stream string) []string {
	t.Helper()
	var out []string
	var token *string
	for {
		page, err := c.GetLogEvents(context.Background(), &cwl.GetLogEventsInput{LogGroupName: &group, LogStreamName: &stream,
			StartFromHead: aws.Bool(true), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			out = append(out, *e.Message)
		}
		if token != nil && *page.NextForwardToken == *token {
			return out
		}
		token = page.NextForwardToken
	}
}

// TestShipperUnderThrottling: against a server whose PutLogEvents quota
// is one request a second, and whose CreateLogStream token another
// instance just took, the shipper never holds the app, creates its stream
// by retrying, loses and duplicates nothing, and makes fewer requests
// than at the same load unthrottled, each fuller.
func TestShipperUnderThrottling(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			testUnderThrottling(t, tr.api)
		})
	}
}

func testUnderThrottling(t *testing.T, transport func(testing.TB, string) shipper.API) {
	free, freeStats := throttleRun(t, transport, logserver.Quotas{Off: true}, false)
	thr, thrStats := throttleRun(t, transport, logserver.Quotas{Rates: map[string]float64{"PutLogEvents": 1, "CreateLogStream": 0.2}}, true)

	if n := thr.Count("CreateLogStream", "ThrottlingException"); n == 0 {
		t.Errorf("the stream's creation was not throttled: the test does not test its retry")
	}
	if n := thr.Count("CreateLogStream", ""); n != 2 {
		t.Errorf("%d streams created, want 2 (the other instance's and the shipper's)", n)
	}
	if thr.Count("PutLogEvents", "ThrottlingException") == 0 || thrStats.Throttled == 0 {
		t.Errorf("PutLogEvents was never throttled (server %d, shipper %d)", thr.Count("PutLogEvents", "ThrottlingException"), thrStats.Throttled)
	}
	freeReq, thrReq := free.Count("PutLogEvents", "*"), thr.Count("PutLogEvents", "*")
	t.Logf("PutLogEvents requests at the same load: %d unthrottled, %d throttled (%d of them throttled); shipper counts %d and %d",
		freeReq, thrReq, thr.Count("PutLogEvents", "ThrottlingException"), freeStats.Requests, thrStats.Requests)
	if thrReq >= freeReq {
		t.Errorf("throttled, the shipper made %d PutLogEvents requests, unthrottled %d: it must send fewer, fuller ones", thrReq, freeReq)
	}
}
