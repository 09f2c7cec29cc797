package cwlhttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestRequests: each call is a POST of the JSON 1.1 protocol with its
// target, signed for the logs service in the client's region, the body as
// given; an accepted PutLogEvents' rejectedLogEventsInfo comes back; a
// failing credentials provider is an error that says so, and nothing is
// sent.
func TestRequests(t *testing.T) {
	type seen struct{ target, ctype, auth, token, body string }
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, seen{r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"), r.Header.Get("Authorization"),
			r.Header.Get("X-Amz-Security-Token"), string(b)})
		if r.Method != http.MethodPost || r.URL.Path != "/" {
			http.Error(w, "want POST /", http.StatusBadRequest)
		}
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutLogEvents") {
			w.Write([]byte(`{"nextSequenceToken":"x","rejectedLogEventsInfo":{"tooOldLogEventEndIndex":2}}`))
		}
	}))
	defer srv.Close()
	c, err := New(Options{Region: "eu-west-1", Endpoint: srv.URL, Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "s", SessionToken: "tok"}, nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	body := `{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"m"}]}`
	res, err := c.PutLogEvents(ctx, "g", "s", []byte(body))
	if err != nil || res.Rejected == nil || res.Rejected.TooOldLogEventEndIndex == nil || *res.Rejected.TooOldLogEventEndIndex != 2 || res.Rejected.TooNewLogEventStartIndex != nil {
		t.Fatalf("PutLogEvents: %+v, %v", res, err)
	}
	for _, call := range []func() error{
		func() error { return c.CreateLogGroup(ctx, "g") },
		func() error { return c.CreateLogStream(ctx, "g", "s") },
		func() error { return c.PutRetentionPolicy(ctx, "g", 7) },
	} {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	want := []seen{
		{"Logs_20140328.PutLogEvents", "", "", "", body},
		{"Logs_20140328.CreateLogGroup", "", "", "", `{"logGroupName":"g"}`},
		{"Logs_20140328.CreateLogStream", "", "", "", `{"logGroupName":"g","logStreamName":"s"}`},
		{"Logs_20140328.PutRetentionPolicy", "", "", "", `{"logGroupName":"g","retentionInDays":7}`},
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("%d requests, want %d", len(got), len(want))
	}
	for i, g := range got {
		if g.target != want[i].target || g.body != want[i].body || g.ctype != "application/x-amz-json-1.1" || g.token != "tok" ||
			!strings.HasPrefix(g.auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") || !strings.Contains(g.auth, "/eu-west-1/logs/aws4_request") {
			t.Errorf("request %d: %+v", i, g)
		}
	}

	bad := errors.New("no role attached")
	c2, _ := New(Options{Region: "eu-west-1", Endpoint: srv.URL, Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, bad
	})})
	n := len(got)
	mu.Unlock()
	_, err = c2.PutLogEvents(ctx, "g", "s", []byte(body))
	mu.Lock()
	if !errors.Is(err, bad) || !strings.Contains(err.Error(), "retrieve credentials") || len(got) != n {
		t.Fatalf("failing credentials: %v (%d requests sent)", err, len(got)-n)
	}
}
