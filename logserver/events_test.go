//lint:file-ignore SA1019 storedBytes of a stream is deprecated, and the test checks it is reported as zero

package logserver_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// setupStream creates group g and stream s.
func setupStream(t *testing.T, c *cwl.Client, g, s string) {
	t.Helper()
	ctx := ctxT(t)
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(g)}); err != nil && apiCode(err) != "ResourceAlreadyExistsException" {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(g), LogStreamName: aws.String(s)}); err != nil {
		t.Fatal(err)
	}
}

func events(base int64, n int, format string) []types.InputLogEvent {
	out := make([]types.InputLogEvent, n)
	for i := range out {
		out[i] = types.InputLogEvent{Timestamp: aws.Int64(base + int64(i)), Message: aws.String(fmt.Sprintf(format, i))}
	}
	return out
}

func TestPutAndGetLogEvents(t *testing.T) {
	ts := startServer(t)
	c, ctx := ts.adminClient(), ctxT(t)
	setupStream(t, c, "app", "s1")
	base := nowMs() - 60_000
	// Three batches, the middle one older than the first: reads still
	// come back in timestamp order.
	for _, b := range []struct {
		off int64
		n   int
		tag string
	}{{1000, 400, "a"}, {0, 300, "b"}, {5000, 300, "c"}} {
		out, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{
			LogGroupName: aws.String("app"), LogStreamName: aws.String("s1"),
			LogEvents: events(base+b.off*10, b.n, b.tag+"%04d"),
		})
		if err != nil {
			t.Fatal(err)
		}
		if out.RejectedLogEventsInfo != nil {
			t.Fatalf("rejected: %+v", out.RejectedLogEventsInfo)
		}
	}
	// Forward through every page with a small limit, as the SDK
	// paginator does.
	p := cwl.NewGetLogEventsPaginator(c, &cwl.GetLogEventsInput{
		LogGroupName: aws.String("app"), LogStreamName: aws.String("s1"), StartFromHead: aws.Bool(true), Limit: aws.Int32(77),
	}, func(o *cwl.GetLogEventsPaginatorOptions) { o.StopOnDuplicateToken = true })
	var got []types.OutputLogEvent
	var lastTok string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, out.Events...)
		lastTok = *out.NextForwardToken
	}
	if len(got) != 1000 {
		t.Fatalf("got %d events, want 1000", len(got))
	}
	seen := map[string]bool{}
	for i, ev := range got {
		if i > 0 && *ev.Timestamp < *got[i-1].Timestamp {
			t.Fatalf("out of order at %d", i)
		}
		if seen[*ev.Message] {
			t.Fatalf("duplicate %s", *ev.Message)
		}
		seen[*ev.Message] = true
		if ev.IngestionTime == nil || *ev.IngestionTime < base {
			t.Fatalf("ingestionTime missing")
		}
	}
	// At the end the token comes back unchanged.
	out, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("s1"), NextToken: aws.String(lastTok)})
	if err != nil || len(out.Events) != 0 || *out.NextForwardToken != lastTok {
		t.Fatalf("end token: %v %v", out, err)
	}
	// A new event after the end is found with the same token.
	if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("s1"),
		LogEvents: events(base+60_000, 1, "late%d")}); err != nil {
		t.Fatal(err)
	}
	out, err = c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("s1"), NextToken: aws.String(lastTok)})
	if err != nil || len(out.Events) != 1 || *out.Events[0].Message != "late0" {
		t.Fatalf("tail with token: %v %v", out, err)
	}

	// Default (startFromHead=false): the newest page, ascending inside.
	out, err = c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("s1"), Limit: aws.Int32(3)})
	if err != nil || len(out.Events) != 3 || *out.Events[2].Message != "late0" || *out.Events[0].Timestamp > *out.Events[1].Timestamp {
		t.Fatalf("newest page: %+v %v", out.Events, err)
	}
	// Backward paging from there reaches the oldest event.
	n := 3
	back := out.NextBackwardToken
	for i := 0; i < 100; i++ {
		o, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("s1"), Limit: aws.Int32(100), NextToken: back})
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Events) == 0 {
			if *o.NextBackwardToken != *back {
				t.Fatal("backward end token changed")
			}
			break
		}
		n += len(o.Events)
		back = o.NextBackwardToken
	}
	if n != 1001 {
		t.Fatalf("backward total %d", n)
	}

	// Time range: start inclusive, end exclusive.
	out, err = c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("s1"),
		StartTime: aws.Int64(base + 10000), EndTime: aws.Int64(base + 10005), StartFromHead: aws.Bool(true)})
	if err != nil || len(out.Events) != 5 || *out.Events[0].Timestamp != base+10000 || *out.Events[4].Timestamp != base+10004 {
		t.Fatalf("range: %d events %v", len(out.Events), err)
	}

	// Forged and foreign tokens are refused.
	for _, tok := range []string{"f/garbage", "b/" + strings.Repeat("A", 48), "x", lastTok[:len(lastTok)-2] + "AA"} {
		_, err = c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("s1"), NextToken: aws.String(tok)})
		if apiCode(err) != "InvalidParameterException" || apiMessage(err) != "The specified nextToken is invalid." {
			t.Errorf("token %q: %v", tok, err)
		}
	}
	setupStream(t, c, "app", "s2")
	_, err = c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("s2"), NextToken: aws.String(lastTok)})
	if apiCode(err) != "InvalidParameterException" {
		t.Errorf("token of another stream: %v", err)
	}
	// Limits on limit.
	for _, l := range []int32{0, 10001} {
		_, err = c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("s1"), Limit: aws.Int32(l)})
		if apiCode(err) != "InvalidParameterException" || !strings.Contains(apiMessage(err), "at 'limit' failed to satisfy constraint") {
			t.Errorf("limit %d: %v", l, err)
		}
	}
	_, err = c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("nope")})
	if apiCode(err) != "ResourceNotFoundException" || apiMessage(err) != "The specified log stream does not exist." {
		t.Errorf("missing stream: %v", err)
	}
}

func TestPutLogEventsValidation(t *testing.T) {
	ts := startServer(t)
	c, ctx := ts.adminClient(), ctxT(t)
	setupStream(t, c, "v", "s")
	now := nowMs()
	big := strings.Repeat("x", 1048576-26)
	cases := []struct {
		name   string
		group  string
		stream string
		events []types.InputLogEvent
		code   string
		msg    string
	}{
		{"no events", "v", "s", []types.InputLogEvent{}, "InvalidParameterException", "Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"10001 events", "v", "s", events(now, 10001, "%d"), "InvalidParameterException", "at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000"},
		{"empty message", "v", "s", []types.InputLogEvent{{Timestamp: aws.Int64(now), Message: aws.String("")}}, "InvalidParameterException", "Value '' at 'logEvents.1.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"negative timestamp", "v", "s", []types.InputLogEvent{{Timestamp: aws.Int64(now), Message: aws.String("a")}, {Timestamp: aws.Int64(-5), Message: aws.String("b")}}, "InvalidParameterException", "Value '-5' at 'logEvents.2.member.timestamp' failed to satisfy constraint: Member must have value greater than or equal to 0"},
		{"out of order", "v", "s", []types.InputLogEvent{{Timestamp: aws.Int64(now), Message: aws.String("a")}, {Timestamp: aws.Int64(now - 1), Message: aws.String("b")}}, "InvalidParameterException", "Log events in a single PutLogEvents request must be in chronological order."},
		{"span over 24h", "v", "s", []types.InputLogEvent{{Timestamp: aws.Int64(now - 25*3600*1000), Message: aws.String("a")}, {Timestamp: aws.Int64(now), Message: aws.String("b")}}, "InvalidParameterException", "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."},
		{"batch too large", "v", "s", []types.InputLogEvent{{Timestamp: aws.Int64(now), Message: aws.String(big)}, {Timestamp: aws.Int64(now), Message: aws.String("y")}}, "InvalidParameterException", "Upload too large: 1048603 bytes exceeds limit of 1048576"},
		{"event too large", "v", "s", []types.InputLogEvent{{Timestamp: aws.Int64(now), Message: aws.String(big + "z")}}, "InvalidParameterException", "Log event too large: 1048577 bytes exceeds limit of 1048576"},
		{"missing group", "nope", "s", events(now, 1, "%d"), "ResourceNotFoundException", "The specified log group does not exist."},
		{"missing stream", "v", "nope", events(now, 1, "%d"), "ResourceNotFoundException", "The specified log stream does not exist."},
		{"max event accepted", "v", "s", []types.InputLogEvent{{Timestamp: aws.Int64(now), Message: aws.String(big)}}, "", ""},
		{"10000 events accepted", "v", "s", events(now, 10000, "%d"), "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(tc.group), LogStreamName: aws.String(tc.stream), LogEvents: tc.events})
			if apiCode(err) != tc.code || !strings.Contains(apiMessage(err), tc.msg) {
				t.Fatalf("got %v\nwant %s: %s", err, tc.code, tc.msg)
			}
		})
	}
	// Many bad events: all counted, a readable few listed.
	bad := make([]types.InputLogEvent, 50)
	for i := range bad {
		bad[i] = types.InputLogEvent{Timestamp: aws.Int64(now), Message: aws.String("")}
	}
	_, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("v"), LogStreamName: aws.String("s"), LogEvents: bad})
	if !strings.HasPrefix(apiMessage(err), "50 validation errors detected: ") || !strings.Contains(apiMessage(err), "(and 40 more)") {
		t.Fatalf("50 violations: %v", err)
	}
}

func TestRejectedLogEventsInfo(t *testing.T) {
	ts := startServer(t)
	c, ctx := ts.adminClient(), ctxT(t)
	setupStream(t, c, "r", "s")
	now := nowMs()
	day := int64(24 * 3600 * 1000)
	ev := func(ts int64, m string) types.InputLogEvent {
		return types.InputLogEvent{Timestamp: aws.Int64(ts), Message: aws.String(m)}
	}
	out, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("r"), LogStreamName: aws.String("s"), LogEvents: []types.InputLogEvent{
		ev(now-15*day, "old1"), ev(now-15*day+1, "old2"), ev(now, "ok"), ev(now+3*3600*1000, "new"),
	}})
	// Span of the valid event alone is fine even though the batch spans 15 days.
	if err != nil {
		t.Fatal(err)
	}
	ri := out.RejectedLogEventsInfo
	if ri == nil || aws.ToInt32(ri.TooOldLogEventEndIndex) != 2 || aws.ToInt32(ri.TooNewLogEventStartIndex) != 3 || ri.ExpiredLogEventEndIndex != nil {
		t.Fatalf("rejected info: %+v", ri)
	}
	// With retention 1 day, a 2-day-old event is expired.
	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("r"), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	out, err = c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("r"), LogStreamName: aws.String("s"), LogEvents: []types.InputLogEvent{
		ev(now-2*day, "expired"), ev(now+1, "ok2"),
	}})
	if err != nil || out.RejectedLogEventsInfo == nil || aws.ToInt32(out.RejectedLogEventsInfo.ExpiredLogEventEndIndex) != 1 {
		t.Fatalf("expired: %+v %v", out, err)
	}
	got, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("r"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range got.Events {
		msgs = append(msgs, *e.Message)
	}
	if strings.Join(msgs, ",") != "ok,ok2" {
		t.Fatalf("stored %v", msgs)
	}
	// All rejected: still a success, nothing stored.
	out, err = c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("r"), LogStreamName: aws.String("s"), LogEvents: []types.InputLogEvent{ev(now+5*3600*1000, "future")}})
	if err != nil || out.RejectedLogEventsInfo == nil || aws.ToInt32(out.RejectedLogEventsInfo.TooNewLogEventStartIndex) != 0 {
		t.Fatalf("all new: %+v %v", out, err)
	}
}

func TestInvalidUTF8IsReplaced(t *testing.T) {
	ts := startServer(t, withAuthNone)
	c, ctx := ts.client(ts.admin), ctxT(t)
	setupStream(t, c, "u", "s")
	if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("u"), LogStreamName: aws.String("s"),
		LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(nowMs()), Message: aws.String("a\xffb")}}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("u"), LogStreamName: aws.String("s")})
	if err != nil || len(out.Events) != 1 || *out.Events[0].Message != "a\uFFFDb" {
		t.Fatalf("got %+v %v", out, err)
	}
}

func TestDescribeLogStreams(t *testing.T) {
	ts := startServer(t)
	c, ctx := ts.adminClient(), ctxT(t)
	for _, s := range []string{"b", "a", "c", "d"} {
		setupStream(t, c, "ds", s)
	}
	_, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("ds"), LogStreamName: aws.String("a")})
	if apiCode(err) != "ResourceAlreadyExistsException" || apiMessage(err) != "The specified log stream already exists" {
		t.Fatalf("dup stream: %v", err)
	}
	_, err = c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("nope"), LogStreamName: aws.String("a")})
	if apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("stream in missing group: %v", err)
	}
	now := nowMs()
	// Last event times: c oldest, a newest.
	for i, s := range []string{"c", "b", "a"} {
		if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("ds"), LogStreamName: aws.String(s), LogEvents: events(now+int64(i)*1000, 2, "m%d")}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(in *cwl.DescribeLogStreamsInput) string {
		var names []string
		p := cwl.NewDescribeLogStreamsPaginator(c, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range out.LogStreams {
				names = append(names, *s.LogStreamName)
			}
		}
		return strings.Join(names, ",")
	}
	g := aws.String("ds")
	if got := list(&cwl.DescribeLogStreamsInput{LogGroupName: g, Limit: aws.Int32(1)}); got != "a,b,c,d" {
		t.Errorf("by name: %s", got)
	}
	if got := list(&cwl.DescribeLogStreamsInput{LogGroupName: g, Descending: aws.Bool(true), Limit: aws.Int32(3)}); got != "d,c,b,a" {
		t.Errorf("by name desc: %s", got)
	}
	if got := list(&cwl.DescribeLogStreamsInput{LogGroupName: g, OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true), Limit: aws.Int32(2)}); got != "a,b,c,d" {
		t.Errorf("by last event desc: %s", got)
	}
	if got := list(&cwl.DescribeLogStreamsInput{LogGroupName: g, LogStreamNamePrefix: aws.String("c")}); got != "c" {
		t.Errorf("prefix: %s", got)
	}
	_, err = c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: g, OrderBy: types.OrderByLastEventTime, LogStreamNamePrefix: aws.String("a")})
	if apiCode(err) != "InvalidParameterException" {
		t.Errorf("LastEventTime with prefix: %v", err)
	}
	_, err = c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: g, Limit: aws.Int32(51)})
	if apiCode(err) != "InvalidParameterException" || !strings.Contains(apiMessage(err), "Member must have value less than or equal to 50") {
		t.Errorf("limit 51: %v", err)
	}
	out, err := c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupIdentifier: aws.String("ds"), LogStreamNamePrefix: aws.String("d")})
	if err != nil || len(out.LogStreams) != 1 {
		t.Fatal(err)
	}
	d := out.LogStreams[0]
	if d.FirstEventTimestamp != nil || d.LastEventTimestamp != nil || aws.ToInt64(d.StoredBytes) != 0 || d.Arn == nil || d.CreationTime == nil {
		t.Errorf("new stream shape: %+v", d)
	}
	out, _ = c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: g, LogStreamNamePrefix: aws.String("a")})
	a := out.LogStreams[0]
	if aws.ToInt64(a.FirstEventTimestamp) != now+2000 || aws.ToInt64(a.LastEventTimestamp) != now+2001 || a.LastIngestionTime == nil {
		t.Errorf("stream a stats: %+v", a)
	}
	if _, err := c.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: g, LogStreamName: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: g, LogStreamName: aws.String("a")})
	if apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("delete missing: %v", err)
	}
	// A recreated stream starts empty.
	setupStream(t, c, "ds", "a")
	ge, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: g, LogStreamName: aws.String("a")})
	if err != nil || len(ge.Events) != 0 {
		t.Errorf("recreated stream has %d events (%v)", len(ge.Events), err)
	}
	_ = time.Now
}
