package logserver_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/keelvm/keel/logserver/auth"
)

// seedInsights fills two groups with many streams of JSON and plain
// lines: requests of users across services, instances of one app.
// Events are one second apart, ending a minute ago.
func seedInsights(t *testing.T, c *cwl.Client) (start, end int64) {
	t.Helper()
	ctx := ctxT(t)
	base := (time.Now().Add(-time.Hour).UnixMilli() / 60000) * 60000
	for _, g := range []string{"keel/prod", "keel/dev"} {
		if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(g)}); err != nil {
			t.Fatal(err)
		}
	}
	i := 0
	for _, svc := range []string{"api", "db", "web"} {
		for inst := 0; inst < 4; inst++ {
			stream := fmt.Sprintf("alice/%s/%d", svc, inst)
			group := "keel/prod"
			if svc == "web" {
				group = "keel/dev"
			}
			if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
				t.Fatal(err)
			}
			var evs []types.InputLogEvent
			for k := 0; k < 25; k++ {
				ts := base + int64(i)*1000
				i++
				var msg string
				if svc == "web" {
					msg = fmt.Sprintf("GET /p%d user=u%d request=r%d status=%d", k, k%3, k, 200+100*(k%5/4))
				} else {
					msg = fmt.Sprintf(`{"service":%q,"instance":%d,"user":"u%d","requestId":"r%d","latency":%d,"level":%q}`, svc, inst, k%3, k, 10+k, map[bool]string{true: "ERROR", false: "INFO"}[k%10 == 0])
				}
				evs = append(evs, types.InputLogEvent{Timestamp: aws.Int64(ts), Message: aws.String(msg)})
			}
			if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: evs}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return base / 1000, (base + int64(i)*1000) / 1000
}

// runQuery starts a query and polls until it ends.
func runQuery(t *testing.T, c *cwl.Client, in *cwl.StartQueryInput) *cwl.GetQueryResultsOutput {
	t.Helper()
	ctx := ctxT(t)
	sq, err := c.StartQuery(ctx, in)
	if err != nil {
		t.Fatalf("StartQuery %q: %v", aws.ToString(in.QueryString), err)
	}
	for {
		out, err := c.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: sq.QueryId})
		if err != nil {
			t.Fatalf("GetQueryResults: %v", err)
		}
		switch out.Status {
		case types.QueryStatusComplete:
			return out
		case types.QueryStatusScheduled, types.QueryStatusRunning:
			time.Sleep(20 * time.Millisecond)
			continue
		}
		t.Fatalf("query %q ended %s", aws.ToString(in.QueryString), out.Status)
	}
}

func rowsText(out *cwl.GetQueryResultsOutput) string {
	var rows []string
	for _, r := range out.Results {
		var fs []string
		for _, f := range r {
			if aws.ToString(f.Field) == "@ptr" {
				continue
			}
			fs = append(fs, aws.ToString(f.Field)+"="+aws.ToString(f.Value))
		}
		rows = append(rows, strings.Join(fs, " "))
	}
	return strings.Join(rows, "; ")
}

func TestInsightsQueries(t *testing.T) {
	ts := startServer(t)
	c := ts.adminClient()
	start, end := seedInsights(t, c)
	both := []string{"keel/prod", "keel/dev"}
	tests := []struct {
		groups []string
		q      string
		want   string
	}{
		// Over several groups, many streams, JSON and plain lines.
		{both, `stats count(*) as n by @log`, "@log=000000000000:keel/dev n=100; @log=000000000000:keel/prod n=200"},
		// A single request across services.
		{both, `filter requestId = "r7" or @message like "request=r7 " | stats count(*) as n`, "n=12"},
		// All sessions of one user across services, in order.
		{both, `parse @message "* user=* *" as verb, webUser, rest | filter user = "u1" or webUser = "u1" | stats count(*) as n by coalesce(service, "web") as svc`, "svc=api n=32; svc=db n=32; svc=web n=32"},
		// All instances of an application.
		{[]string{"keel/prod"}, `filter service = "api" | stats count(*) as n, max(latency) as worst by @logStream`, "@logStream=alice/api/0 n=25 worst=34; @logStream=alice/api/1 n=25 worst=34; @logStream=alice/api/2 n=25 worst=34; @logStream=alice/api/3 n=25 worst=34"},
		{[]string{"keel/prod"}, `filter level = "ERROR" | stats count(*) by service`, "service=api count(*)=12; service=db count(*)=12"},
		{[]string{"keel/dev"}, `parse @message /status=(?<status>\d+)/ | stats count(*) as n by status`, "status=200 n=80; status=300 n=20"},
		{both, `fields @logStream | sort @timestamp desc | limit 2`, "@logStream=alice/web/3; @logStream=alice/web/3"},
		// README's three queries.
		{both, `filter requestId = "r7" | sort @timestamp asc | fields service, instance | limit 3`, "service=api instance=0; service=api instance=1; service=api instance=2"},
		{both, `filter user = "u2" | stats count(*) as requests, earliest(requestId) as first, latest(requestId) as last by service`, "service=api requests=32 first=r2 last=r23; service=db requests=32 first=r2 last=r23"},
		{both, `filter service = "db" | stats count(*) as events, sum(level = "ERROR") as errors, max(latency) as worst by instance`, "instance=0 events=25 errors=3 worst=34; instance=1 events=25 errors=3 worst=34; instance=2 events=25 errors=3 worst=34; instance=3 events=25 errors=3 worst=34"},
	}
	for _, tt := range tests {
		out := runQuery(t, c, &cwl.StartQueryInput{LogGroupNames: tt.groups, StartTime: aws.Int64(start), EndTime: aws.Int64(end), QueryString: aws.String(tt.q)})
		if got := rowsText(out); got != tt.want {
			t.Errorf("%s\n got  %s\n want %s", tt.q, got, tt.want)
		}
	}

	// The time range: seconds, endTime inclusive. The first minute of events.
	out := runQuery(t, c, &cwl.StartQueryInput{LogGroupName: aws.String("keel/prod"), StartTime: aws.Int64(start), EndTime: aws.Int64(start + 59), QueryString: aws.String(`stats count(*) as n`)})
	if got := rowsText(out); got != "n=60" {
		t.Errorf("first minute: %s", got)
	}
	if s := out.Statistics; s == nil || s.RecordsScanned != 60 || s.RecordsMatched != 60 || s.BytesScanned <= 0 {
		t.Errorf("statistics %+v", out.Statistics)
	}

	// Raw rows carry @ptr, which GetLogRecord resolves.
	out = runQuery(t, c, &cwl.StartQueryInput{LogGroupIdentifiers: []string{"arn:aws:logs:us-east-1:000000000000:log-group:keel/prod:*"}, StartTime: aws.Int64(start), EndTime: aws.Int64(end),
		QueryString: aws.String(`filter requestId = "r3" and instance = 2 and service = "db" | fields requestId`), Limit: aws.Int32(5)})
	if len(out.Results) != 1 {
		t.Fatalf("ptr query: %s", rowsText(out))
	}
	var ptr string
	for _, f := range out.Results[0] {
		if aws.ToString(f.Field) == "@ptr" {
			ptr = aws.ToString(f.Value)
		}
	}
	rec, err := c.GetLogRecord(ctxT(t), &cwl.GetLogRecordInput{LogRecordPointer: aws.String(ptr)})
	if err != nil {
		t.Fatalf("GetLogRecord: %v", err)
	}
	if rec.LogRecord["@logStream"] != "alice/db/2" || rec.LogRecord["requestId"] != "r3" || !strings.HasPrefix(rec.LogRecord["@message"], "{") {
		t.Fatalf("GetLogRecord: %v", rec.LogRecord)
	}
	if _, err := c.GetLogRecord(ctxT(t), &cwl.GetLogRecordInput{LogRecordPointer: aws.String("garbage!")}); apiCode(err) != "InvalidParameterException" {
		t.Fatalf("bad ptr: %v", err)
	}

	// The request's limit caps the rows; the default is 10,000.
	out = runQuery(t, c, &cwl.StartQueryInput{LogGroupNames: both, StartTime: aws.Int64(start), EndTime: aws.Int64(end), QueryString: aws.String(`fields @message`), Limit: aws.Int32(7)})
	if len(out.Results) != 7 {
		t.Fatalf("limit 7: %d rows", len(out.Results))
	}

	// DescribeQueries lists them, newest first.
	dq, err := c.DescribeQueries(ctxT(t), &cwl.DescribeQueriesInput{LogGroupName: aws.String("keel/dev"), Status: types.QueryStatusComplete})
	if err != nil || len(dq.Queries) < 3 || dq.Queries[0].Status != types.QueryStatusComplete {
		t.Fatalf("DescribeQueries: %v %+v", err, dq)
	}
}

func TestInsightsErrors(t *testing.T) {
	ts := startServer(t)
	c := ts.adminClient()
	start, end := seedInsights(t, c)
	ctx := ctxT(t)
	_, err := c.StartQuery(ctx, &cwl.StartQueryInput{LogGroupName: aws.String("keel/prod"), StartTime: aws.Int64(start), EndTime: aws.Int64(end),
		QueryString: aws.String("fields a\n| stats count(*) by\n| limit 5")})
	var mq *types.MalformedQueryException
	if !errors.As(err, &mq) || mq.QueryCompileError == nil || mq.QueryCompileError.Location == nil {
		t.Fatalf("malformed: %v", err)
	}
	if loc := mq.QueryCompileError.Location; aws.ToInt32(loc.StartCharOffset) != 29 || aws.ToInt32(loc.EndCharOffset) != 30 || !strings.Contains(aws.ToString(mq.QueryCompileError.Message), `found "|"`) {
		t.Fatalf("location %d-%d %q", aws.ToInt32(loc.StartCharOffset), aws.ToInt32(loc.EndCharOffset), aws.ToString(mq.QueryCompileError.Message))
	}
	cases := []struct {
		in   *cwl.StartQueryInput
		code string
	}{
		{&cwl.StartQueryInput{LogGroupName: aws.String("nope"), StartTime: aws.Int64(start), EndTime: aws.Int64(end), QueryString: aws.String("fields a")}, "ResourceNotFoundException"},
		{&cwl.StartQueryInput{StartTime: aws.Int64(start), EndTime: aws.Int64(end), QueryString: aws.String("fields a")}, "InvalidParameterException"},
		{&cwl.StartQueryInput{LogGroupName: aws.String("keel/prod"), LogGroupNames: []string{"keel/dev"}, StartTime: aws.Int64(start), EndTime: aws.Int64(end), QueryString: aws.String("fields a")}, "InvalidParameterException"},
		{&cwl.StartQueryInput{LogGroupName: aws.String("keel/prod"), StartTime: aws.Int64(end), EndTime: aws.Int64(start), QueryString: aws.String("fields a")}, "InvalidParameterException"},
		{&cwl.StartQueryInput{LogGroupName: aws.String("keel/prod"), StartTime: aws.Int64(start), EndTime: aws.Int64(end), QueryString: aws.String("fields a"), Limit: aws.Int32(10001)}, "InvalidParameterException"},
	}
	for i, cs := range cases {
		if _, err := c.StartQuery(ctx, cs.in); apiCode(err) != cs.code {
			t.Errorf("case %d: %v, want %s", i, err, cs.code)
		}
	}
	if _, err := c.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: aws.String("no-such-query")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("unknown query: %v", err)
	}

	// A write-only VM key may not query, nor read another's query.
	kr, _, err := auth.OpenKeyring(ts.dir)
	if err != nil {
		t.Fatal(err)
	}
	vmKey, err := kr.Create("vm-insights", &auth.Scope{Group: "keel/prod", Stream: "alice/api/0"})
	if err != nil {
		t.Fatal(err)
	}
	vm := ts.client(vmKey)
	if _, err := vm.StartQuery(ctx, &cwl.StartQueryInput{LogGroupName: aws.String("keel/prod"), StartTime: aws.Int64(start), EndTime: aws.Int64(end), QueryString: aws.String("fields @message")}); apiCode(err) != "AccessDeniedException" {
		t.Fatalf("VM key StartQuery: %v", err)
	}
	sq, err := c.StartQuery(ctx, &cwl.StartQueryInput{LogGroupName: aws.String("keel/prod"), StartTime: aws.Int64(start), EndTime: aws.Int64(end), QueryString: aws.String("fields @message")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vm.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: sq.QueryId}); apiCode(err) != "AccessDeniedException" {
		t.Fatalf("VM key GetQueryResults: %v", err)
	}
	if _, err := vm.DescribeQueries(ctx, &cwl.DescribeQueriesInput{}); apiCode(err) != "AccessDeniedException" {
		t.Fatalf("VM key DescribeQueries: %v", err)
	}
	// A key scoped to read and query its group may.
	reader, err := kr.Create("reader", &auth.Scope{Group: "keel/prod", Actions: []string{"StartQuery", "GetQueryResults"}})
	if err != nil {
		t.Fatal(err)
	}
	out := runQuery(t, ts.client(reader), &cwl.StartQueryInput{LogGroupName: aws.String("keel/prod"), StartTime: aws.Int64(start), EndTime: aws.Int64(end), QueryString: aws.String("stats count(*) as n")})
	if got := rowsText(out); got != "n=200" {
		t.Fatalf("reader: %s", got)
	}
	// StopQuery on a finished query reports no success.
	stop, err := c.StopQuery(ctx, &cwl.StopQueryInput{QueryId: sq.QueryId})
	if err != nil {
		t.Fatal(err)
	}
	_ = stop.Success // finished or not depends on timing; both are valid answers
}
