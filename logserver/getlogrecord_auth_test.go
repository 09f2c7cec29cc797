package logserver_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/keelvm/keel/insights"
	"github.com/keelvm/keel/logserver/auth"
)

// TestGetLogRecordAuthorizesFirst: a key that may not read a record gets
// the same AccessDenied, naming the group only, whether the record's group
// and stream exist or not; only a key allowed there learns that a record
// is gone.
func TestGetLogRecordAuthorizesFirst(t *testing.T) {
	ts := startServer(t)
	admin := ts.adminClient()
	ctx := ctxT(t)
	setupStream(t, admin, "g", "a/1")
	setupStream(t, admin, "g", "b/1")
	for _, s := range []string{"a/1", "b/1"} {
		if _, err := admin.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String(s),
			LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(nowMs()), Message: aws.String("in " + s)}}}); err != nil {
			t.Fatal(err)
		}
	}
	out := runQuery(t, admin, &cwl.StartQueryInput{LogGroupNames: []string{"g"}, StartTime: aws.Int64(nowMs()/1000 - 3600), EndTime: aws.Int64(nowMs()/1000 + 60),
		QueryString: aws.String(`fields @logStream | sort @logStream`)})
	ptrs := map[string]string{}
	for _, row := range out.Results {
		var stream, ptr string
		for _, f := range row {
			switch aws.ToString(f.Field) {
			case "@logStream":
				stream = aws.ToString(f.Value)
			case "@ptr":
				ptr = aws.ToString(f.Value)
			}
		}
		ptrs[stream] = ptr
	}
	group, sid, seq, tsMs, err := insights.DecodePtr(ptrs["a/1"])
	if err != nil || group != "g" {
		t.Fatalf("ptr of a/1 %q: %v", ptrs["a/1"], err)
	}
	ptrs["no stream"] = insights.EncodePtr("g", sid+1000, seq, tsMs)
	ptrs["no group"] = insights.EncodePtr("nope", sid, seq, tsMs)

	key := func(name string, sc *auth.Scope) *cwl.Client {
		k, err := ts.keys.Create(name, sc)
		if err != nil {
			t.Fatal(err)
		}
		return ts.client(k)
	}
	readA := key("read-a", &auth.Scope{Group: "g", StreamPrefix: "a/", Actions: []string{"GetLogRecord"}})
	writer := key("writer", &auth.Scope{Group: "g"}) // the default actions: no reading
	other := key("other", &auth.Scope{Group: "h", Actions: []string{"GetLogRecord"}})
	const denied = "AccessDeniedException"
	for _, tc := range []struct {
		name   string
		c      *cwl.Client
		ptr    string
		code   string // "" = the record
		notMsg string // the message must not name it
	}{
		{"stream key, its record", readA, "a/1", "", ""},
		{"stream key, another stream", readA, "b/1", denied, "b/1"},
		{"stream key, no such stream", readA, "no stream", denied, "log-stream"},
		{"stream key, no such group", readA, "no group", denied, ""},
		{"writer, existing record", writer, "a/1", denied, "a/1"},
		{"writer, no such stream", writer, "no stream", denied, "log-stream"},
		{"other group's key, existing", other, "a/1", denied, "a/1"},
		{"other group's key, no such stream", other, "no stream", denied, "log-stream"},
		{"admin, no such stream", admin, "no stream", "ResourceNotFoundException", ""},
		{"admin, no such group", admin, "no group", "ResourceNotFoundException", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.c.GetLogRecord(ctx, &cwl.GetLogRecordInput{LogRecordPointer: aws.String(ptrs[tc.ptr])})
			if got := apiCode(err); got != tc.code {
				t.Fatalf("GetLogRecord(%s): %q (%v), want %q", tc.ptr, got, err, tc.code)
			}
			if tc.notMsg != "" && strings.Contains(apiMessage(err), tc.notMsg) {
				t.Errorf("the message names %q: %s", tc.notMsg, apiMessage(err))
			}
		})
	}
	// Denied on an existing stream and on a missing one: the same answer.
	_, e1 := readA.GetLogRecord(ctx, &cwl.GetLogRecordInput{LogRecordPointer: aws.String(ptrs["b/1"])})
	_, e2 := readA.GetLogRecord(ctx, &cwl.GetLogRecordInput{LogRecordPointer: aws.String(ptrs["no stream"])})
	if apiMessage(e1) != apiMessage(e2) {
		t.Errorf("denied answers differ:\n existing: %s\n missing:  %s", apiMessage(e1), apiMessage(e2))
	}
}
