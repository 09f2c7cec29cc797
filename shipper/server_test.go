package shipper_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/keelvm/keel/logserver"
	"github.com/keelvm/keel/shipper"
	"github.com/keelvm/keel/shipper/cwlhttp"
	"github.com/keelvm/keel/shipper/cwlsdk"
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

// httpClient is the shipper's own transport (the init's) to endpoint.
func httpClient(tb testing.TB, endpoint string) *cwlhttp.Client {
	tb.Helper()
	c, err := cwlhttp.New(cwlhttp.Options{Region: "us-east-1", Endpoint: endpoint,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// transports are the shipper's two ways to the service, which every test
// against a server runs through: its own signed HTTP (what the init links)
// and the SDK's client (keel ship).
var transports = []struct {
	name string
	api  func(tb testing.TB, endpoint string) shipper.API
}{
	{"http", func(tb testing.TB, ep string) shipper.API { return httpClient(tb, ep) }},
	{"sdk", func(_ testing.TB, ep string) shipper.API { return cwlsdk.Wrap(sdkClient(ep)) }},
}
