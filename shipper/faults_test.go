package shipper_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/keelvm/keel/shipper"
)

// faultProxy sits between the shipper and the real local server and, on
// command, throttles, fails, resets connections before the request reaches
// the server, answers slowly, or refuses everything (an outage).
type faultProxy struct {
	mode   atomic.Value // string
	target *httputil.ReverseProxy
	hits   atomic.Int64
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.hits.Add(1)
	switch p.mode.Load().(string) {
	case "throttle":
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(400)
		io.WriteString(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
		return
	case "500":
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(503)
		io.WriteString(w, `{"__type":"ServiceUnavailableException","message":"try later"}`)
		return
	case "reset":
		// Half the body read, then the connection dies: the server never
		// sees the request.
		io.CopyN(io.Discard, r.Body, r.ContentLength/2)
		if hj, ok := w.(http.Hijacker); ok {
			c, _, err := hj.Hijack()
			if err == nil {
				c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case "slow":
		time.Sleep(1500 * time.Millisecond)
	case "outage":
		panic(http.ErrAbortHandler)
	}
	p.target.ServeHTTP(w, r)
}

// TestFaults drives the shipper through a real server behind a faulty proxy:
// throttling bursts, 5xx, resets mid-body, slow answers, an outage and the
// stream deleted under it. Every event logged arrives exactly once (events
// that were in the deleted stream excepted), and nothing is dropped: the
// byte bound is never reached.
func TestFaults(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { testFaults(t, tr.api) })
	}
}

func testFaults(t *testing.T, transport func(testing.TB, string) shipper.API) {
	endpoint := localServer(t)
	u, _ := url.Parse(endpoint)
	proxy := &faultProxy{target: httputil.NewSingleHostReverseProxy(u)}
	proxy.mode.Store("")
	front := httptest.NewServer(proxy)
	defer front.Close()
	direct := sdkClient(endpoint)
	var notices []string
	var nmu sync.Mutex
	s, err := shipper.New(shipper.Config{Client: transport(t, front.URL), Group: "faults", Stream: "app", Format: shipper.FormatText,
		Linger: 30 * time.Millisecond, RetryBase: 20 * time.Millisecond, RetryMax: 300 * time.Millisecond, RequestTimeout: 5 * time.Second,
		Notice: func(n string) { nmu.Lock(); notices = append(notices, n); nmu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	n := 0
	logSome := func(k int) {
		for i := 0; i < k; i++ {
			s.Log(shipper.Event{Message: fmt.Sprintf("event %05d", n)})
			n++
		}
	}
	phase := func(mode string, d time.Duration) {
		proxy.mode.Store(mode)
		deadline := time.Now().Add(d)
		for time.Now().Before(deadline) {
			logSome(20)
			time.Sleep(20 * time.Millisecond)
		}
		proxy.mode.Store("")
	}
	logSome(100)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ph := range []struct {
		mode string
		d    time.Duration
	}{{"throttle", time.Second}, {"", 300 * time.Millisecond}, {"500", time.Second}, {"reset", time.Second}, {"slow", 2 * time.Second}, {"outage", 3 * time.Second}} {
		phase(ph.mode, ph.d)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// The stream deleted under it: later events go to a new stream.
	if _, err := direct.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: aws.String("faults"), LogStreamName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	afterDelete := n
	logSome(200)
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.Close(fctx); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	p := cwl.NewGetLogEventsPaginator(direct, &cwl.GetLogEventsInput{LogGroupName: aws.String("faults"), LogStreamName: aws.String("app"), StartFromHead: aws.Bool(true)},
		func(o *cwl.GetLogEventsPaginatorOptions) { o.StopOnDuplicateToken = true })
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.Events {
			seen[*ev.Message]++
		}
	}
	for i := afterDelete; i < n; i++ {
		if c := seen[fmt.Sprintf("event %05d", i)]; c != 1 {
			t.Fatalf("event %05d arrived %d times (after the stream was deleted)", i, c)
		}
	}
	for m, c := range seen {
		if c != 1 {
			t.Fatalf("%q arrived %d times", m, c)
		}
	}
	st2 := s.Stats()
	if st2.Dropped != 0 || st2.Lost != 0 || st2.Sent != n {
		t.Fatalf("stats: %+v (logged %d)", st2, n)
	}
	if st2.Retried == 0 {
		t.Fatalf("no retries: faults never hit (%d proxy hits)", proxy.hits.Load())
	}
	t.Logf("%d events, %d retries, %d proxy hits, notices %v", n, st2.Retried, proxy.hits.Load(), notices)
}
