package logs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/keelvm/keel/internal/testutil"
	"github.com/keelvm/keel/logs"
	"github.com/keelvm/keel/logserver"
)

// server runs keel's log server without auth on a loopback port.
func server(t *testing.T) string {
	t.Helper()
	ready := make(chan logserver.State, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- logserver.Run(ctx, logserver.RunConfig{Addr: "127.0.0.1:0", DataDir: t.TempDir(), AuthNone: true,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: func(s logserver.State) { ready <- s }})
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case st := <-ready:
		return st.Endpoint
	case err := <-done:
		t.Fatal(err)
	}
	return ""
}

func client(endpoint string) *cwl.Client {
	return cwl.New(cwl.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")}, logs.WithoutHostPrefix)
}

// writer puts n events per stream, one batch every interval, each event
// numbered per stream, and returns when done.
func writer(t *testing.T, c *cwl.Client, group string, streams []string, n int, interval time.Duration) {
	t.Helper()
	for i := 0; i < n; i++ {
		for _, s := range streams {
			_, err := c.PutLogEvents(context.Background(), &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(s),
				LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String(fmt.Sprintf("%s seq %04d", s, i))}}})
			if err != nil {
				t.Errorf("put: %v", err)
				return
			}
		}
		time.Sleep(interval)
	}
}

func setup(t *testing.T, c *cwl.Client, group string, streams ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	for _, s := range streams {
		if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(s)}); err != nil {
			t.Fatal(err)
		}
	}
}

// collector checks exactly-once, in-order delivery per stream.
type collector struct {
	mu      sync.Mutex
	next    map[string]int
	errs    []string
	total   int
	notices []string
}

func (c *collector) add(e logs.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var s string
	var n int
	if _, err := fmt.Sscanf(e.Message, "%s seq %d", &s, &n); err != nil {
		c.errs = append(c.errs, "unexpected "+e.Message)
		return nil
	}
	if c.next == nil {
		c.next = map[string]int{}
	}
	if n != c.next[s] {
		c.errs = append(c.errs, fmt.Sprintf("%s: got %d, want %d", s, n, c.next[s]))
	}
	c.next[s] = n + 1
	c.total++
	return nil
}

func (c *collector) wait(t *testing.T, want int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		n := c.total
		c.mu.Unlock()
		if n >= want {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // anything extra would show up now
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) > 0 {
		t.Fatalf("delivery errors: %v (notices: %v)", c.errs[:min(10, len(c.errs))], c.notices)
	}
	if c.total != want {
		t.Fatalf("delivered %d events, want %d (notices: %v)", c.total, want, c.notices)
	}
}

func follow(t *testing.T, src *logs.Source, since time.Time, col *collector) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	src.Notice = func(s string) {
		col.mu.Lock()
		col.notices = append(col.notices, s)
		col.mu.Unlock()
	}
	go func() { done <- src.Follow(ctx, since, col.add) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("follow: %v", err)
		}
	})
}

func TestFollowLiveTailExactlyOnce(t *testing.T) {
	ep := server(t)
	c := client(ep)
	streams := []string{"a/web", "a/worker"}
	setup(t, c, "keel/dev", streams...)
	// History first: 20 events per stream before following starts.
	writer(t, c, "keel/dev", streams, 20, 0)
	col := &collector{}
	follow(t, &logs.Source{Client: c, Group: "keel/dev"}, time.Now().Add(-time.Hour), col)
	// Live: 100 more per stream at 200 events/s.
	for i := 20; i < 120; i++ {
		for _, s := range streams {
			_, err := c.PutLogEvents(context.Background(), &cwl.PutLogEventsInput{LogGroupName: aws.String("keel/dev"), LogStreamName: aws.String(s),
				LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String(fmt.Sprintf("%s seq %04d", s, i))}}})
			if err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	col.wait(t, 240, 15*time.Second)
	// A reconnect on a loaded machine is fine (delivery stays exactly
	// once); falling back to polling is not.
	for _, n := range col.notices {
		if strings.Contains(n, "polling") {
			t.Fatalf("live tail fell back: %v", col.notices)
		}
	}
}

// TestFollowPastLiveTailSampling: above 500 events a second live tail
// sends samples; following must still show every event once, in order.
func TestFollowPastLiveTailSampling(t *testing.T) {
	ep := server(t)
	c := client(ep)
	setup(t, c, "keel/dev", "a/busy")
	col := &collector{}
	follow(t, &logs.Source{Client: c, Group: "keel/dev"}, time.Now().Add(-time.Hour), col)
	time.Sleep(time.Second)      // live tail is up
	const batches, per = 40, 100 // 2,000 events a second for 2 s
	for b := 0; b < batches; b++ {
		evs := make([]types.InputLogEvent, per)
		for i := range evs {
			evs[i] = types.InputLogEvent{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String(fmt.Sprintf("a/busy seq %04d", b*per+i))}
		}
		if _, err := c.PutLogEvents(context.Background(), &cwl.PutLogEventsInput{LogGroupName: aws.String("keel/dev"),
			LogStreamName: aws.String("a/busy"), LogEvents: evs}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	col.wait(t, batches*per, 20*time.Second)
}

// dropProxy forwards TCP to target and cuts every connection after life.
func dropProxy(t *testing.T, target string, life time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			go io.Copy(out, in)
			go io.Copy(in, out)
			time.AfterFunc(life, func() { in.Close(); out.Close() })
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestFollowSurvivesDroppedConnections(t *testing.T) {
	ep := server(t)
	c := client(ep)
	setup(t, c, "keel/dev", "a/web")
	proxied := client(dropProxy(t, strings.TrimPrefix(ep, "http://"), 1500*time.Millisecond))
	col := &collector{}
	follow(t, &logs.Source{Client: proxied, Group: "keel/dev", Streams: []string{"a/web"}}, time.Now(), col)
	time.Sleep(300 * time.Millisecond)
	writer(t, c, "keel/dev", []string{"a/web"}, 150, 40*time.Millisecond) // 6 s: several drops
	col.wait(t, 150, 20*time.Second)
	reconnects := 0
	for _, n := range col.notices {
		if strings.Contains(n, "polling") {
			t.Fatalf("a cut connection made it fall back to polling: %v", col.notices)
		}
		if strings.Contains(n, "reconnecting") || strings.Contains(n, "retrying") {
			reconnects++
		}
	}
	if reconnects == 0 {
		t.Fatalf("the proxy never cut the session (notices %v)", col.notices)
	}
}

func TestFollowPollsMoto(t *testing.T) {
	if _, err := exec.LookPath("moto_server"); err != nil {
		testutil.Unavailable(t, "moto_server not installed")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("moto_server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ep := fmt.Sprintf("http://127.0.0.1:%d", port)
	c := client(ep)
	for i := 0; ; i++ {
		if _, err := c.DescribeLogGroups(context.Background(), &cwl.DescribeLogGroupsInput{}); err == nil {
			break
		} else if i > 100 {
			t.Fatalf("moto_server not up: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	setup(t, c, "keel/test", "a/web")
	col := &collector{}
	follow(t, &logs.Source{Client: c, Group: "keel/test", Streams: []string{"a/web"}}, time.Now().Add(-time.Minute), col)
	writer(t, c, "keel/test", []string{"a/web"}, 30, 50*time.Millisecond)
	col.wait(t, 30, 20*time.Second)
	polled := false
	for _, n := range col.notices {
		polled = polled || strings.Contains(n, "polling")
	}
	if !polled {
		t.Fatalf("expected the polling fallback against moto (notices %v)", col.notices)
	}
}

// TestFollowDenied: credentials that may not use live tail fall back to
// polling, saying why; credentials that may not read either end the follow
// with the service's reason instead of polling forever. A proxy in front of
// the server denies the two operations, as IAM would.
func TestFollowDenied(t *testing.T) {
	target, err := url.Parse(server(t))
	if err != nil {
		t.Fatal(err)
	}
	fwd := httputil.NewSingleHostReverseProxy(target)
	deny := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		if strings.HasSuffix(op, ".StartLiveTail") || strings.HasSuffix(op, ".FilterLogEvents") {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"__type":"AccessDeniedException","message":"User: test is not authorized to perform: logs:%s"}`, op[strings.LastIndexByte(op, '.')+1:])
			return
		}
		fwd.ServeHTTP(w, r)
	}))
	t.Cleanup(deny.Close)
	setup(t, client(target.String()), "keel/dev", "a/web")
	var notices []string
	src := &logs.Source{Client: client(deny.URL), Group: "keel/dev", Notice: func(s string) { notices = append(notices, s) }}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = src.Follow(ctx, time.Now().Add(-time.Hour), func(logs.Event) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "access denied") || ctx.Err() != nil {
		t.Fatalf("Follow = %v (notices %q); want access denied, at once", err, notices)
	}
	if len(notices) == 0 || !strings.Contains(notices[0], "may not use live tail") {
		t.Fatalf("notices %q; want the reason live tail is not used", notices)
	}
}
