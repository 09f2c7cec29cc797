package logserver_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/keelvm/keel/logserver"
)

// TestRetentionHidesAndDeletes stores events that a retention policy set
// afterwards makes expired: they vanish from every read at once and from the
// disk at the next retention pass.
func TestRetentionHidesAndDeletes(t *testing.T) {
	ts := startServer(t, func(rc *logserver.RunConfig) { rc.RetentionEvery = 50 * time.Millisecond })
	c, ctx := ts.adminClient(), ctxT(t)
	setupStream(t, c, "ret", "old")
	setupStream(t, c, "ret", "new")
	day := int64(24 * 3600 * 1000)
	if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("ret"), LogStreamName: aws.String("old"), LogEvents: events(nowMs()-3*day, 100, "old %d")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("ret"), LogStreamName: aws.String("new"), LogEvents: events(nowMs()-1000, 10, "new %d")}); err != nil {
		t.Fatal(err)
	}
	segBytes := func() int64 {
		var n int64
		filepath.Walk(filepath.Join(ts.dir, "store"), func(p string, fi os.FileInfo, err error) error {
			if err == nil && filepath.Ext(p) == ".seg" {
				n += fi.Size()
			}
			return nil
		})
		return n
	}
	before := segBytes()
	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("ret"), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("ret"), LogStreamName: aws.String("old"), StartFromHead: aws.Bool(true)})
	if err != nil || len(out.Events) != 0 {
		t.Fatalf("expired events still read: %d (%v)", len(out.Events), err)
	}
	fl, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("ret")})
	if err != nil || len(fl.Events) != 10 {
		t.Fatalf("filter after retention: %d events (%v)", len(fl.Events), err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for segBytes() >= before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if after := segBytes(); after >= before {
		t.Fatalf("expired segments not deleted: %d bytes before, %d after", before, after)
	}
	out, err = c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("ret"), LogStreamName: aws.String("new"), StartFromHead: aws.Bool(true)})
	if err != nil || len(out.Events) != 10 {
		t.Fatalf("events within retention lost: %d (%v)", len(out.Events), err)
	}
}
