package shipper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/keelvm/keel/shipper/cwlsdk"
)

func newShipper(t *testing.T, api cwlsdk.SDKAPI, mod func(*Config)) *Shipper {
	t.Helper()
	cfg := Config{Client: cwlsdk.Wrap(api), Group: "g", Stream: "s", Format: FormatText, Linger: 20 * time.Millisecond,
		RetryBase: time.Millisecond, RetryMax: 20 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Close(ctx)
	})
	return s
}

func flush(t *testing.T, s *Shipper) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("flush: %v (stats %+v)", err, s.Stats())
	}
}

// exactlyOnce checks that got holds every "line N" for N in [0,n) at most
// once and exactly once unless dropped allows gaps, and returns how many.
func exactlyOnce(t *testing.T, got []string, n int, gapsOK bool) int {
	t.Helper()
	seen := make([]bool, n)
	count := 0
	for _, m := range got {
		var i int
		if _, err := fmt.Sscanf(m, "line %d", &i); err != nil {
			continue
		}
		if seen[i] {
			t.Fatalf("line %d delivered twice", i)
		}
		seen[i] = true
		count++
	}
	if !gapsOK && count != n {
		for i, ok := range seen {
			if !ok {
				t.Fatalf("line %d missing (%d of %d delivered)", i, count, n)
			}
		}
	}
	return count
}

func TestFlushDeliversEverythingOnce(t *testing.T) {
	f := newFake()
	s := newShipper(t, f, nil)
	const n = 50_000
	for i := 0; i < n; i++ {
		s.Log(Event{Message: fmt.Sprintf("line %d", i)})
	}
	flush(t, s)
	exactlyOnce(t, f.messages(), n, false)
	st := s.Stats()
	if st.Accepted != n || st.Sent != n || st.Buffered != 0 || len(f.bad) > 0 {
		t.Fatalf("stats %+v, violations %v", st, f.bad)
	}
}

func TestLingerBatchesLightLoad(t *testing.T) {
	f := newFake()
	s := newShipper(t, f, func(c *Config) { c.Linger = 100 * time.Millisecond })
	start := time.Now()
	for i := 0; i < 50; i++ {
		s.Log(Event{Message: fmt.Sprintf("line %d", i)})
	}
	for len(f.messages()) < 50 && time.Since(start) < 5*time.Second {
		time.Sleep(5 * time.Millisecond)
	}
	if d := time.Since(start); d < 90*time.Millisecond || d > 600*time.Millisecond {
		t.Errorf("delivered after %v, want about the 100 ms linger", d)
	}
	if st := s.Stats(); st.Requests != 1 {
		t.Errorf("%d requests for 50 quick lines, want 1", st.Requests)
	}
}

func TestFlushSkipsLinger(t *testing.T) {
	f := newFake()
	s := newShipper(t, f, func(c *Config) { c.Linger = time.Hour })
	s.Log(Event{Message: "line 0"})
	start := time.Now()
	flush(t, s)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("flush took %v", d)
	}
	exactlyOnce(t, f.messages(), 1, false)
}

// TestBoundDropsOldestAndMarks: with the service down, the buffer keeps the
// newest events within its bound, and once delivery resumes a marker says
// what was dropped. Nothing is lost except what the marker counts.
func TestBoundDropsOldestAndMarks(t *testing.T) {
	f := newFake()
	up := serviceDown(f)
	var notices []string
	var nmu sync.Mutex
	s := newShipper(t, f, func(c *Config) {
		c.BufferBytes = 64 << 10
		c.Notice = func(m string) { nmu.Lock(); notices = append(notices, m); nmu.Unlock() }
	})
	const n = 20_000
	for i := 0; i < n; i++ {
		s.Log(Event{Message: fmt.Sprintf("line %d %s", i, strings.Repeat("p", 60))})
	}
	st := s.Stats()
	if st.Dropped == 0 || st.Buffered*90 > 64<<10 {
		t.Fatalf("no drops or too much buffered: %+v", st)
	}
	up()
	flush(t, s)
	got := f.messages()
	delivered := exactlyOnce(t, got, n, true)
	st = s.Stats()
	// Drops split into gaps wherever a batch was claimed between them: the
	// requests retrying in flight (4) and the batch being cut, each a run
	// of delivered events with a marked gap on either side.
	if delivered+st.Dropped != n || st.Sent != delivered || st.Markers < 1 || st.Markers > 4+2 {
		t.Fatalf("delivered %d + dropped %d != %d, or %d markers; stats %+v", delivered, st.Dropped, n, st.Markers, st)
	}
	// Each gap has its marker; together they count every dropped event.
	marked := 0
	for _, m := range got {
		var k, by int
		if _, err := fmt.Sscanf(m, "keel: dropped %d events (%d bytes) between ", &k, &by); err == nil {
			marked += k
			if !strings.Contains(m, " between ") || !strings.Contains(m, " and ") {
				t.Fatalf("marker %q", m)
			}
		}
	}
	if marked != st.Dropped {
		t.Fatalf("markers count %d dropped events, stats %+v", marked, st)
	}
	// The newest events survive: the last line is delivered.
	if !slices.ContainsFunc(got, func(m string) bool { return strings.HasPrefix(m, fmt.Sprintf("line %d ", n-1)) }) {
		t.Fatalf("the newest line was not delivered: last %q, stats %+v", got[len(got)-3:], st)
	}
	nmu.Lock()
	defer nmu.Unlock()
	if len(notices) == 0 || len(notices) > 4 {
		t.Fatalf("notices: %q", notices)
	}
}

func TestInvalidParameterSplitsAndRejectsOne(t *testing.T) {
	f := newFake()
	f.failPut = func(_ int, in *cwl.PutLogEventsInput) error {
		for _, e := range in.LogEvents {
			if strings.Contains(*e.Message, "BAD") {
				return &types.InvalidParameterException{Message: strPtr("1 validation error detected")}
			}
		}
		return nil
	}
	s := newShipper(t, f, nil)
	for i := 0; i < 1000; i++ {
		m := fmt.Sprintf("line %d", i)
		if i == 617 {
			m += " BAD"
		}
		s.Log(Event{Message: m})
	}
	flush(t, s)
	got := f.messages()
	if len(got) != 999 || exactlyOnce(t, got, 1000, true) != 999 {
		t.Fatalf("%d delivered", len(got))
	}
	if st := s.Stats(); st.Rejected != 1 || st.Sent != 999 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCreatesGroupAndStream(t *testing.T) {
	cases := []struct {
		name      string
		group     bool
		failGroup error
		wantRet   int32
	}{
		{"stream missing", true, nil, 0},
		{"group missing, retention set", false, nil, 30},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			f.group, f.stream, f.failGroup = tc.group, false, tc.failGroup
			s := newShipper(t, f, func(c *Config) { c.RetentionDays = 30 })
			s.Log(Event{Message: "line 0"})
			flush(t, s)
			exactlyOnce(t, f.messages(), 1, false)
			if f.retention != tc.wantRet {
				t.Fatalf("retention %d, want %d", f.retention, tc.wantRet)
			}
		})
	}
}

// TestGroupCreationDenied: a write-only key may not create the group; the
// shipper says so once and delivers once the deployer has made it.
func TestGroupCreationDenied(t *testing.T) {
	f := newFake()
	f.group, f.stream = false, false
	f.failGroup = apiErr("AccessDeniedException", "not authorized to perform logs:CreateLogGroup")
	var notices []string
	var mu sync.Mutex
	s := newShipper(t, f, func(c *Config) {
		c.Notice = func(m string) { mu.Lock(); notices = append(notices, m); mu.Unlock() }
	})
	s.Log(Event{Message: "line 0"})
	time.Sleep(300 * time.Millisecond)
	f.mu.Lock()
	f.group, f.failGroup = true, nil // the deployer creates the group
	f.mu.Unlock()
	flush(t, s)
	exactlyOnce(t, f.messages(), 1, false)
	mu.Lock()
	defer mu.Unlock()
	denied := 0
	for _, n := range notices {
		if strings.Contains(n, "may not create log group g") {
			denied++
		}
	}
	if denied != 1 || f.groupCalls < 2 {
		t.Fatalf("%d denial notices in %q, %d CreateLogGroup calls", denied, notices, f.groupCalls)
	}
}

func TestCredentialsErrorsRetrySlowly(t *testing.T) {
	for _, code := range []string{"ExpiredTokenException", "UnrecognizedClientException"} {
		t.Run(code, func(t *testing.T) {
			f := newFake()
			f.failPut = func(n int, _ *cwl.PutLogEventsInput) error {
				if n <= 3 {
					return apiErr(code, "The security token included in the request is expired")
				}
				return nil
			}
			var notices []string
			var mu sync.Mutex
			s := newShipper(t, f, func(c *Config) {
				c.Notice = func(m string) { mu.Lock(); notices = append(notices, m); mu.Unlock() }
			})
			start := time.Now()
			s.Log(Event{Message: "line 0"})
			flush(t, s)
			exactlyOnce(t, f.messages(), 1, false)
			if d := time.Since(start); d < 30*time.Millisecond {
				t.Errorf("3 credential retries took only %v: not slow", d)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(notices) < 1 || !strings.Contains(notices[0], "credentials refused ("+code+")") {
				t.Errorf("notices %q", notices)
			}
		})
	}
}

func TestCloseBoundedReportsLost(t *testing.T) {
	f := newFake()
	f.failPut = func(int, *cwl.PutLogEventsInput) error { return errors.New("connection refused") }
	s := newShipper(t, f, nil)
	for i := 0; i < 100; i++ {
		s.Log(Event{Message: fmt.Sprintf("line %d", i)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := s.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("close: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("close took %v", d)
	}
	s.Log(Event{Message: "after close"})
	if st := s.Stats(); st.Lost != 101 || st.Sent != 0 || st.Buffered != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestLogNeverBlocks: with the service hanging, Log calls finish
// at memory speed and the buffer stays bounded.
func TestLogNeverBlocks(t *testing.T) {
	f := newFake()
	hang := make(chan struct{})
	defer close(hang)
	f.failPut = func(int, *cwl.PutLogEventsInput) error { <-hang; return errors.New("hung") }
	s := newShipper(t, f, func(c *Config) { c.BufferBytes = 1 << 20 })
	line := strings.Repeat("x", 100)
	start := time.Now()
	const n = 300_000
	for i := 0; i < n; i++ {
		s.Log(Event{Message: line})
	}
	if d := time.Since(start); d > 10*time.Second { // -race makes each call ~10 times slower
		t.Fatalf("%d Log calls took %v", n, d)
	}
	st := s.Stats()
	if st.Buffered*126 > 1<<20 || st.Dropped == 0 {
		t.Fatalf("stats %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	s.Close(ctx)
}

// allocRuns keeps each shipper below a full batch (10,000 events), so that
// the batcher, whose allocations AllocsPerRun would count too, stays asleep.
const allocRuns = 5000

func TestLogAllocations(t *testing.T) {
	f := newFake()
	s := newShipper(t, f, func(c *Config) { c.Linger = time.Hour; c.BufferBytes = 1 << 30 })
	ev := Event{Message: "a plain line of text", Time: time.Now()}
	allocs := testing.AllocsPerRun(allocRuns, func() { s.Log(ev) })
	if allocs > 0.1 {
		t.Errorf("text Log: %.2f allocations per event, want none", allocs)
	}
	s2 := newShipper(t, f, func(c *Config) { c.Format = FormatJSON; c.Linger = time.Hour; c.BufferBytes = 1 << 30 })
	allocs = testing.AllocsPerRun(allocRuns, func() { s2.Log(ev) })
	if allocs > 0.1 {
		t.Errorf("json Log: %.2f allocations per event, want none (formatting is the batcher's)", allocs)
	}
	s3 := newShipper(t, f, func(c *Config) { c.Linger = time.Hour; c.BufferBytes = 1 << 30 })
	p := s3.Pipe("INFO", "stdout")
	chunk := []byte("a line\nanother line\n")
	allocs = testing.AllocsPerRun(allocRuns, func() { p.Write(chunk) })
	if allocs > 0.1 {
		t.Errorf("Pipe.Write: %.2f allocations per write, want none", allocs)
	}
}

// tooOldAPI accepts every request and reports all its events too old, as
// the service does for events older than the group's retention.
type tooOldAPI struct {
	*fake
	mu       sync.Mutex
	markers  int // drop markers the service refused
	accepted bool
}

func (a *tooOldAPI) PutLogEvents(ctx context.Context, in *cwl.PutLogEventsInput, _ ...func(*cwl.Options)) (*cwl.PutLogEventsOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.accepted {
		return nil, apiErr("ServiceUnavailableException", "down")
	}
	for _, e := range in.LogEvents {
		if strings.HasPrefix(*e.Message, "keel: dropped") {
			a.markers++
		}
	}
	end := int32(len(in.LogEvents))
	return &cwl.PutLogEventsOutput{RejectedLogEventsInfo: &types.RejectedLogEventsInfo{TooOldLogEventEndIndex: &end}}, nil
}

// TestRefusedMarkerIsNotCounted: a drop marker carries the time of the
// event after the gap; when the service refuses that event as too old (a
// retention shorter than the events' age), it refuses the marker too, and
// Stats must not count it as sent.
func TestRefusedMarkerIsNotCounted(t *testing.T) {
	a := &tooOldAPI{fake: newFake()}
	s := newShipper(t, a, func(c *Config) { c.BufferBytes = 64 << 10; c.InFlight = 1 })
	old := time.Now().Add(-3 * 24 * time.Hour)
	for i := range 5000 {
		s.Log(Event{Time: old, Message: fmt.Sprintf("line %d %s", i, strings.Repeat("o", 60))})
	}
	if s.Stats().Dropped == 0 {
		t.Fatal("no drops: the test needs a marker")
	}
	a.mu.Lock()
	a.accepted = true
	a.mu.Unlock()
	flush(t, s)
	st := s.Stats()
	a.mu.Lock()
	refused := a.markers
	a.mu.Unlock()
	if refused == 0 {
		t.Fatalf("no marker was sent; stats %+v", st)
	}
	if st.Markers != 0 || st.Sent != 0 || st.Rejected+st.Dropped != st.Accepted {
		t.Fatalf("%d markers refused by the service; stats %+v", refused, st)
	}
}
