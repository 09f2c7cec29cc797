package auth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
)

// authServer answers awsJson1_1 calls with {} once Verify and Authorize pass,
// the way the log server uses this package.
func authServer(t *testing.T, keys *Keyring) *httptest.Server {
	v := &Verifier{Keys: keys}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := func(e *Error) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.Header().Set("X-Amzn-ErrorType", e.Code)
			w.WriteHeader(e.Status)
			json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
			return
		}
		key, e := v.Verify(r, body)
		if e != nil {
			fail(e)
			return
		}
		var in struct{ LogGroupName, LogStreamName string }
		json.Unmarshal(body, &in)
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "Logs_20140328.")
		if e := Authorize(key, op, in.LogGroupName, in.LogStreamName, "000000000000", "eu-west-3"); e != nil {
			fail(e)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func logsClient(url string, key Key) *cloudwatchlogs.Client {
	return cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:           "eu-west-3",
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds(key), nil
		}),
	})
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestRealClient drives the verifier with the real CloudWatch Logs client,
// which adds its own headers (amz-sdk-*, x-amz-user-agent) and signs them.
func TestRealClient(t *testing.T) {
	server, admin, dir := openTestKeyring(t)
	srv := authServer(t, server)
	ctx := context.Background()
	cli, _, err := OpenKeyring(dir) // `keel logserver key create` while the server runs
	if err != nil {
		t.Fatal(err)
	}
	vmKey, err := cli.Create("vm-hello", &Scope{Group: "boxfuse/dev", StreamPrefix: "myuser/hello"})
	if err != nil {
		t.Fatal(err)
	}
	adm, vm := logsClient(srv.URL, admin), logsClient(srv.URL, vmKey)
	events := []types.InputLogEvent{{Timestamp: aws.Int64(1), Message: aws.String("hi  there")}}
	put := func(c *cloudwatchlogs.Client, group, stream string) error {
		_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
			LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: events})
		return err
	}
	wrong := admin
	wrong.Secret = strings.Repeat("w", 40)
	unknown := Key{ID: "KEEL0000000000000000", Secret: admin.Secret}

	tests := []struct {
		name string
		call func() error
		code string // "" for success
	}{
		{"admin creates a group", func() error {
			_, err := adm.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("boxfuse/dev")})
			return err
		}, ""},
		{"admin reads", func() error {
			_, err := adm.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("boxfuse/prod"), LogStreamName: aws.String("x")})
			return err
		}, ""},
		{"scoped key writes in its prefix", func() error { return put(vm, "boxfuse/dev", "myuser/hello/boot") }, ""},
		{"scoped key creates a stream in its prefix", func() error {
			_, err := vm.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("boxfuse/dev"), LogStreamName: aws.String("myuser/hello")})
			return err
		}, ""},
		{"scoped key, other prefix", func() error { return put(vm, "boxfuse/dev", "other") }, CodeAccessDenied},
		{"scoped key, other group", func() error { return put(vm, "boxfuse/prod", "myuser/hello") }, CodeAccessDenied},
		{"scoped key reads", func() error {
			_, err := vm.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("boxfuse/dev"), LogStreamName: aws.String("myuser/hello")})
			return err
		}, CodeAccessDenied},
		{"scoped key filters", func() error {
			_, err := vm.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("boxfuse/dev")})
			return err
		}, CodeAccessDenied},
		{"scoped key describes streams", func() error {
			_, err := vm.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("boxfuse/dev")})
			return err
		}, CodeAccessDenied},
		{"wrong secret", func() error { return put(logsClient(srv.URL, wrong), "g", "s") }, CodeInvalidSignature},
		{"unknown key", func() error { return put(logsClient(srv.URL, unknown), "g", "s") }, CodeUnrecognizedClient},
		{"key deleted by the CLI", func() error {
			if err := cli.Delete(vmKey.ID); err != nil {
				t.Fatal(err)
			}
			return put(vm, "boxfuse/dev", "myuser/hello")
		}, CodeUnrecognizedClient},
	}
	for _, tt := range tests {
		err := tt.call()
		if got := apiCode(err); got != tt.code || (tt.code == "" && err != nil) {
			t.Errorf("%s: got %v, want code %q", tt.name, err, tt.code)
		}
	}
}
