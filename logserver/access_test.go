package logserver_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/keelvm/keel/logserver/auth"
)

// signedAt sends a request signed by the real SDK signer at time at.
func signedAt(t *testing.T, ts *testServer, key auth.Key, at time.Time) (int, map[string]any) {
	t.Helper()
	body := []byte(`{}`)
	req, _ := http.NewRequest(http.MethodPost, ts.endpoint+"/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "Logs_20140328.DescribeLogGroups")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sum := sha256.Sum256(body)
	err := v4.NewSigner().SignHTTP(ctxT(t), aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}, req, hex.EncodeToString(sum[:]), "logs", "eu-west-1", at)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func TestSigV4(t *testing.T) {
	ts := startServer(t)
	ctx := ctxT(t)
	if _, err := ts.adminClient().DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{}); err != nil {
		t.Fatalf("admin key refused: %v", err)
	}
	wrongSecret := ts.admin
	wrongSecret.Secret = strings.Repeat("x", 40)
	unknown := auth.Key{ID: "KEELAAAAAAAAAAAAAAAA", Secret: strings.Repeat("y", 40)}
	cases := []struct {
		name string
		key  auth.Key
		code string
	}{
		{"wrong secret", wrongSecret, "InvalidSignatureException"},
		{"unknown key", unknown, "UnrecognizedClientException"},
	}
	for _, tc := range cases {
		_, err := ts.client(tc.key).DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
		if apiCode(err) != tc.code {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
	_, err := ts.client(unknown).DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
	if apiMessage(err) != "The security token included in the request is invalid." {
		t.Errorf("unknown key message: %q", apiMessage(err))
	}
	for _, tc := range []struct {
		name  string
		at    time.Time
		code  string
		words string
	}{
		{"now, other region", time.Now(), "", ""},
		{"4 minutes old", time.Now().Add(-4 * time.Minute), "", ""},
		{"stale", time.Now().Add(-6 * time.Minute), "InvalidSignatureException", "Signature expired"},
		{"future", time.Now().Add(6 * time.Minute), "InvalidSignatureException", "Signature not yet current"},
	} {
		status, m := signedAt(t, ts, ts.admin, tc.at)
		if tc.code == "" {
			if status != 200 {
				t.Errorf("%s: %d %v", tc.name, status, m)
			}
			continue
		}
		if status != 400 || m["__type"] != tc.code || !strings.Contains(m["message"].(string), tc.words) {
			t.Errorf("%s: %d %v", tc.name, status, m)
		}
	}
}

func TestScopedKey(t *testing.T) {
	ts := startServer(t)
	admin, ctx := ts.adminClient(), ctxT(t)
	setupStream(t, admin, "boxfuse/dev", "myuser/hello")
	setupStream(t, admin, "boxfuse/prod", "myuser/hello")
	// Issued while the server runs, as `keel logserver key create` does.
	kr, _, err := auth.OpenKeyring(ts.dir)
	if err != nil {
		t.Fatal(err)
	}
	vmKey, err := kr.Create("vm-hello", &auth.Scope{Group: "boxfuse/dev", StreamPrefix: "myuser/hello"})
	if err != nil {
		t.Fatal(err)
	}
	vm := ts.client(vmKey)
	ev := []types.InputLogEvent{{Timestamp: aws.Int64(nowMs()), Message: aws.String("hi")}}
	if _, err := vm.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("boxfuse/dev"), LogStreamName: aws.String("myuser/hello/boot")}); err != nil {
		t.Fatalf("scoped create stream in prefix: %v", err)
	}
	if _, err := vm.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("boxfuse/dev"), LogStreamName: aws.String("myuser/hello"), LogEvents: ev}); err != nil {
		t.Fatalf("scoped put in prefix: %v", err)
	}
	denied := []struct {
		name string
		call func() error
	}{
		{"put outside prefix", func() error {
			_, err := vm.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("boxfuse/dev"), LogStreamName: aws.String("other/app"), LogEvents: ev})
			return err
		}},
		{"put other group", func() error {
			_, err := vm.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("boxfuse/prod"), LogStreamName: aws.String("myuser/hello"), LogEvents: ev})
			return err
		}},
		{"read own stream", func() error {
			_, err := vm.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("boxfuse/dev"), LogStreamName: aws.String("myuser/hello")})
			return err
		}},
		{"filter own group", func() error {
			_, err := vm.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("boxfuse/dev")})
			return err
		}},
		{"describe groups", func() error {
			_, err := vm.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
			return err
		}},
		{"delete stream", func() error {
			_, err := vm.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: aws.String("boxfuse/dev"), LogStreamName: aws.String("myuser/hello")})
			return err
		}},
		{"delete group", func() error {
			_, err := vm.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("boxfuse/dev")})
			return err
		}},
	}
	for _, tc := range denied {
		err := tc.call()
		if apiCode(err) != "AccessDeniedException" || !strings.Contains(apiMessage(err), "user/vm-hello is not authorized to perform: logs:") {
			t.Errorf("%s: got %v, want AccessDeniedException", tc.name, err)
		}
	}
	// Revoked keys are refused at once.
	if err := kr.Delete(vmKey.ID); err != nil {
		t.Fatal(err)
	}
	_, err = vm.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("boxfuse/dev"), LogStreamName: aws.String("myuser/hello"), LogEvents: ev})
	if apiCode(err) != "UnrecognizedClientException" {
		t.Errorf("revoked key: %v", err)
	}
}
