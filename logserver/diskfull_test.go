package logserver_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/keelvm/keel/internal/testutil"
)

// smallDisk mounts a tmpfs of size bytes for the test, so that a full disk
// is a real ENOSPC from the kernel. It needs root (as CI has).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		testutil.Unavailable(t, "cannot mount a tmpfs here (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func TestDiskFull(t *testing.T) {
	dir := smallDisk(t, "6m")
	// Room to free later, as an operator would.
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := startServerIn(t, filepath.Join(dir, "data"))
	c, ctx := ts.adminClient(), ctxT(t)
	setupStream(t, c, "full", "s")
	put := func(i int) error {
		msg := fmt.Sprintf("batch %04d %s", i, strings.Repeat("x", 64<<10))
		_, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("full"), LogStreamName: aws.String("s"),
			LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(nowMs()), Message: aws.String(msg)}}})
		return err
	}
	acked := 0
	var err error
	for ; acked < 1000; acked++ {
		if err = put(acked); err != nil {
			break
		}
	}
	if err == nil {
		t.Fatal("6 MiB disk never filled")
	}
	if apiCode(err) != "ServiceUnavailableException" || !strings.Contains(apiMessage(err), "disk is full") {
		t.Fatalf("full disk: got %v", err)
	}
	// Still serving, and everything acknowledged is there.
	count := func() int {
		n := 0
		p := cwl.NewGetLogEventsPaginator(c, &cwl.GetLogEventsInput{LogGroupName: aws.String("full"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)},
			func(o *cwl.GetLogEventsPaginatorOptions) { o.StopOnDuplicateToken = true })
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range out.Events {
				if !strings.HasPrefix(*ev.Message, fmt.Sprintf("batch %04d ", n)) {
					t.Fatalf("event %d is %.20q", n, *ev.Message)
				}
				n++
			}
		}
		return n
	}
	if n := count(); n != acked {
		t.Fatalf("after ENOSPC: %d events readable, %d acknowledged", n, acked)
	}
	// Once space is freed, writes succeed again.
	os.Remove(filler)
	if err := put(acked); err != nil {
		t.Fatalf("write after freeing space: %v", err)
	}
	if n := count(); n != acked+1 {
		t.Fatalf("after recovery: %d events, want %d", n, acked+1)
	}
}
