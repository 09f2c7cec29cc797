package logserver_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/keelvm/keel/logs"
	"github.com/keelvm/keel/logserver/auth"
)

// TestLiveTailEndsWhenKeyRevoked: a live tail session lasts up to three
// hours after the request that authorized it. Once its key is deleted, the
// server must stop sending it events, as it refuses the key's next request.
func TestLiveTailEndsWhenKeyRevoked(t *testing.T) {
	ts := startServer(t)
	admin, ctx := ts.adminClient(), ctxT(t)
	setupStream(t, admin, "lt", "web/1")
	kr, _, err := auth.OpenKeyring(ts.dir)
	if err != nil {
		t.Fatal(err)
	}
	tailKey, err := kr.Create("tailer", &auth.Scope{Group: "lt", Actions: []string{"StartLiveTail"}})
	if err != nil {
		t.Fatal(err)
	}
	c := cwl.New(cwl.Options{Region: "us-east-1", BaseEndpoint: aws.String(ts.endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(tailKey.ID, tailKey.Secret, "")}, logs.WithoutHostPrefix)
	stream := startTail(t, ctx, c, &cwl.StartLiveTailInput{LogGroupIdentifiers: []string{"lt"}})
	defer stream.Close()

	if err := kr.Delete(tailKey.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // let an update or two go by
	if _, err := admin.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("lt"), LogStreamName: aws.String("web/1"),
		LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(nowMs()), Message: aws.String("secret after revoke")}}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(4 * time.Second)
	for {
		select {
		case ev, ok := <-stream.Events():
			if !ok {
				// The session ended, saying why.
				if err := stream.Err(); err == nil || !strings.Contains(err.Error(), "was revoked") {
					t.Fatalf("the session ended with %v, want a SessionStreamingException naming the revoked key", err)
				}
				return
			}
			if u, isUpdate := ev.(*types.StartLiveTailResponseStreamMemberSessionUpdate); isUpdate {
				for _, r := range u.Value.SessionResults {
					if strings.Contains(aws.ToString(r.Message), "secret after revoke") {
						t.Fatalf("revoked key's live tail received %q", aws.ToString(r.Message))
					}
				}
			}
		case <-deadline:
			t.Fatal("live tail session of a revoked key still open 5 s after the revocation")
		}
	}
}
