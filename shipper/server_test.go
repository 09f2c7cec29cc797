package shipper_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/keelvm/keel/logserver"
)

// localServer starts keel's local CloudWatch Logs server (no signature
// checks) for the test and returns its endpoint; it stops with the test.
func localServer(tb testing.TB) string {
	tb.Helper()
	st, stop, err := logserver.Start(logserver.RunConfig{Addr: "127.0.0.1:0", DataDir: tb.TempDir(), AuthNone: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(stop)
	return st.Endpoint
}

// sdkClient is the SDK's client of endpoint, with its own retries off as
// the shipper wants them.
func sdkClient(endpoint string) *cwl.Client {
	return cwl.New(cwl.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
}
