package logserver_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

func TestFilterLogEvents(t *testing.T) {
	ts := startServer(t)
	c, ctx := ts.adminClient(), ctxT(t)
	base := nowMs() - 100_000
	// Three streams with interleaved timestamps and equal timestamps across
	// streams, so order and pagination ties are exercised.
	for si, s := range []string{"web/1", "web/2", "worker/1"} {
		setupStream(t, c, "f", s)
		evs := make([]types.InputLogEvent, 200)
		for i := range evs {
			evs[i] = types.InputLogEvent{Timestamp: aws.Int64(base + int64(i/2)*10), Message: aws.String(fmt.Sprintf("%s-%03d", s, i))}
		}
		_ = si
		if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("f"), LogStreamName: aws.String(s), LogEvents: evs}); err != nil {
			t.Fatal(err)
		}
	}
	collect := func(in *cwl.FilterLogEventsInput) []types.FilteredLogEvent {
		var out []types.FilteredLogEvent
		p := cwl.NewFilterLogEventsPaginator(c, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if page.SearchedLogStreams == nil {
				// The SDK leaves it nil for an empty list too; fine.
			}
			out = append(out, page.Events...)
		}
		return out
	}
	all := collect(&cwl.FilterLogEventsInput{LogGroupName: aws.String("f"), Limit: aws.Int32(33)})
	if len(all) != 600 {
		t.Fatalf("all: %d events", len(all))
	}
	ids := map[string]bool{}
	for i, ev := range all {
		if ids[*ev.EventId] {
			t.Fatalf("duplicate event id %s", *ev.EventId)
		}
		ids[*ev.EventId] = true
		if i > 0 && *ev.Timestamp < *all[i-1].Timestamp {
			t.Fatalf("not sorted at %d", i)
		}
		if ev.LogStreamName == nil || ev.IngestionTime == nil {
			t.Fatalf("missing members: %+v", ev)
		}
	}
	// Event ids are stable across calls.
	again := collect(&cwl.FilterLogEventsInput{LogGroupName: aws.String("f"), Limit: aws.Int32(1000)})
	for i := range again {
		if *again[i].EventId != *all[i].EventId {
			t.Fatalf("event id changed at %d", i)
		}
	}
	if got := collect(&cwl.FilterLogEventsInput{LogGroupName: aws.String("f"), LogStreamNamePrefix: aws.String("web/")}); len(got) != 400 {
		t.Errorf("prefix: %d", len(got))
	}
	if got := collect(&cwl.FilterLogEventsInput{LogGroupName: aws.String("f"), LogStreamNames: []string{"worker/1", "missing"}}); len(got) != 200 {
		t.Errorf("names: %d", len(got))
	}
	// startTime and endTime are both inclusive here.
	got := collect(&cwl.FilterLogEventsInput{LogGroupName: aws.String("f"), StartTime: aws.Int64(base + 100), EndTime: aws.Int64(base + 200)})
	if len(got) != 66 || *got[0].Timestamp != base+100 || *got[len(got)-1].Timestamp != base+200 {
		t.Errorf("range: %d events", len(got))
	}
	// A single page without more carries no token.
	out, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("f"), LogStreamNames: []string{"web/1"}})
	if err != nil {
		t.Fatalf("single page: %v", err)
	}
	if out.NextToken != nil || len(out.Events) != 200 {
		t.Errorf("single page: token %v, %d events", out.NextToken, len(out.Events))
	}
	errCases := []struct {
		in   *cwl.FilterLogEventsInput
		code string
		msg  string
	}{
		{&cwl.FilterLogEventsInput{LogGroupName: aws.String("f"), FilterPattern: aws.String("{ $.a = 1 ")}, "InvalidParameterException", "column"},
		{&cwl.FilterLogEventsInput{LogGroupName: aws.String("f"), LogStreamNames: []string{"a"}, LogStreamNamePrefix: aws.String("a")}, "InvalidParameterException", "mutually exclusive"},
		{&cwl.FilterLogEventsInput{LogGroupName: aws.String("f"), Limit: aws.Int32(10001)}, "InvalidParameterException", "less than or equal to 10000"},
		{&cwl.FilterLogEventsInput{LogGroupName: aws.String("f"), NextToken: aws.String("t/forged")}, "InvalidParameterException", "The specified nextToken is invalid."},
		{&cwl.FilterLogEventsInput{LogGroupName: aws.String("nope")}, "ResourceNotFoundException", "The specified log group does not exist."},
		{&cwl.FilterLogEventsInput{}, "InvalidParameterException", "Either LogGroupName or LogGroupIdentifier"},
	}
	for _, tc := range errCases {
		_, err := c.FilterLogEvents(ctx, tc.in)
		if apiCode(err) != tc.code || !strings.Contains(apiMessage(err), tc.msg) {
			t.Errorf("%+v: got %v, want %s %q", tc.in, err, tc.code, tc.msg)
		}
	}
	// The pattern's limit is 1,024 characters, not bytes: 600 two-byte
	// characters pass, 1,025 ASCII ones do not.
	if _, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("f"), FilterPattern: aws.String(`"` + strings.Repeat("é", 600) + `"`)}); err != nil {
		t.Errorf("a 602-character pattern of 1,202 bytes: %v", err)
	}
	if _, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("f"), FilterPattern: aws.String(strings.Repeat("x", 1025))}); !strings.Contains(apiMessage(err), "less than or equal to 1024") {
		t.Errorf("a 1,025-character pattern: %v", err)
	}
	// 2,000 spaces are too long before they are blank.
	if _, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("f"), FilterPattern: aws.String(strings.Repeat(" ", 2000))}); !strings.Contains(apiMessage(err), "less than or equal to 1024") {
		t.Errorf("a 2,000-space pattern: %v", err)
	}
	// An empty or blank pattern means every event; a non-breaking space
	// is a term, which none of these events holds.
	for _, p := range []string{"", " \t "} {
		if got := collect(&cwl.FilterLogEventsInput{LogGroupName: aws.String("f"), FilterPattern: aws.String(p)}); len(got) != 600 {
			t.Errorf("pattern %q: %d events, want every one", p, len(got))
		}
	}
	if got := collect(&cwl.FilterLogEventsInput{LogGroupName: aws.String("f"), FilterPattern: aws.String("\u00a0")}); len(got) != 0 {
		t.Errorf("a non-breaking space as the pattern: %d events, want none", len(got))
	}
}

// TestFilterByRequestID finds one request's events across services by a
// JSON field, and combines patterns with stream selection.
func TestFilterByRequestID(t *testing.T) {
	ts := startServer(t)
	c, ctx := ts.adminClient(), ctxT(t)
	now := nowMs()
	for si, s := range []string{"alice/web", "alice/api", "bob/worker"} {
		setupStream(t, c, "keel/dev", s)
		var evs []types.InputLogEvent
		for i := 0; i < 50; i++ {
			msg := fmt.Sprintf(`{"instance":"i-%d","level":"INFO","requestId":"req-%d","message":"step %d"}`, si, i%10, i)
			if i%10 == 3 {
				msg = fmt.Sprintf("plain text line %d ERROR timeout", i)
			}
			evs = append(evs, types.InputLogEvent{Timestamp: aws.Int64(now + int64(i)), Message: aws.String(msg)})
		}
		if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("keel/dev"), LogStreamName: aws.String(s), LogEvents: evs}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(in *cwl.FilterLogEventsInput) int {
		n := 0
		p := cwl.NewFilterLogEventsPaginator(c, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n += len(out.Events)
		}
		return n
	}
	g := aws.String("keel/dev")
	cases := []struct {
		pattern string
		prefix  string
		want    int
	}{
		{`{ $.requestId = "req-7" }`, "", 15},
		{`{ $.requestId = "req-7" }`, "alice/", 10},
		{`{ $.requestId = "req-*" && $.instance = "i-2" }`, "", 45},
		{`ERROR timeout`, "", 15},
		{`?ERROR ?"step 1"`, "", 45},
		{`"step 4" -i-1`, "", 20},
		{`%step [0-9]+%`, "bob/", 45},
	}
	for _, tc := range cases {
		in := &cwl.FilterLogEventsInput{LogGroupName: g, FilterPattern: aws.String(tc.pattern), Limit: aws.Int32(4)}
		if tc.prefix != "" {
			in.LogStreamNamePrefix = aws.String(tc.prefix)
		}
		if got := count(in); got != tc.want {
			t.Errorf("pattern %s prefix %q: %d events, want %d", tc.pattern, tc.prefix, got, tc.want)
		}
	}
}

// TestFilterManyStreamsMemory: a page over many streams reads each stream a
// small batch at a time, not a page's worth of each: memory per request
// grows with the page, not with streams × page.
func TestFilterManyStreamsMemory(t *testing.T) {
	ts := startServer(t)
	c, ctx := ts.adminClient(), ctxT(t)
	const streams, per = 300, 2000
	base := nowMs() - 100_000
	for i := range streams {
		name := fmt.Sprintf("s/%03d", i)
		setupStream(t, c, "many", name)
		evs := make([]types.InputLogEvent, per)
		for j := range evs {
			evs[j] = types.InputLogEvent{Timestamp: aws.Int64(base + int64(j)), Message: aws.String("x")}
		}
		if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("many"), LogStreamName: aws.String(name), LogEvents: evs}); err != nil {
			t.Fatal(err)
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	out, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("many")})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 10_000 || out.NextToken == nil {
		t.Fatalf("first page: %d events, token %v; want 10,000 and a token", len(out.Events), out.NextToken)
	}
	// The page itself (10,000 events, client and server side) is a few
	// MB; reading every stream's 2,000 events, as before, was over 300.
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("one page over %d streams: %d MB allocated", streams, alloc>>20)
	if alloc > 40<<20 {
		t.Fatalf("one page over %d streams allocated %d MB", streams, alloc>>20)
	}
}
