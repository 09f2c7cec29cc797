package shipper_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/keelvm/keel/iampolicy"
	"github.com/keelvm/keel/logs"
	"github.com/keelvm/keel/logserver"
	"github.com/keelvm/keel/logserver/auth"
	"github.com/keelvm/keel/shipper"
	"github.com/keelvm/keel/shipper/cwlhttp"
	"github.com/keelvm/keel/shipper/cwlsdk"
)

// TestExpiredTokenRefreshes: session credentials that the server ends
// while the client still holds them (its cache believes them good for an
// hour) are answered with ExpiredTokenException; the shipper refreshes
// and resends, and every event arrives once, in order.
// Through each transport: the init's (cwlhttp) and the SDK's.
func TestExpiredTokenRefreshes(t *testing.T) {
	for _, tr := range []struct {
		name string
		api  func(t *testing.T, endpoint string, creds aws.CredentialsProvider) shipper.API
	}{
		{"http", func(t *testing.T, endpoint string, creds aws.CredentialsProvider) shipper.API {
			c, err := cwlhttp.New(cwlhttp.Options{Region: "us-east-1", Endpoint: endpoint, Credentials: creds})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"sdk", func(_ *testing.T, endpoint string, creds aws.CredentialsProvider) shipper.API {
			return cwlsdk.Wrap(cwl.New(cwl.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1, Credentials: creds}))
		}},
	} {
		t.Run(tr.name, func(t *testing.T) { testExpiredTokenRefreshes(t, tr.api) })
	}
}

func testExpiredTokenRefreshes(t *testing.T, transport func(*testing.T, string, aws.CredentialsProvider) shipper.API) {
	data := t.TempDir()
	st, stop, err := logserver.Start(logserver.RunConfig{Addr: "127.0.0.1:0", DataDir: data,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ctx := context.Background()
	admin, err := logs.AdminClient(data, st.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("keel/dev")}); err != nil {
		t.Fatal(err)
	}
	kr, _, err := auth.OpenKeyring(data)
	if err != nil {
		t.Fatal(err)
	}
	pol := iampolicy.ShipOwnLogs("aws", "us-east-1", "000000000000", "keel/dev", "alice/hello")
	var sessions atomic.Int32
	// Each retrieval issues a session that really lasts 400 ms but is
	// said to last an hour: only the service's answer shows it expired.
	cache := aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		k, err := kr.CreateSession(fmt.Sprintf("vm-test-%d", sessions.Add(1)), pol, 400*time.Millisecond)
		if err != nil {
			return aws.Credentials{}, err
		}
		return aws.Credentials{AccessKeyID: k.ID, SecretAccessKey: k.Secret, SessionToken: k.Token,
			CanExpire: true, Expires: time.Now().Add(time.Hour)}, nil
	}))
	var refreshes atomic.Int32
	var nmu sync.Mutex
	var notices []string
	s, err := shipper.New(shipper.Config{Client: transport(t, st.Endpoint, cache), Group: "keel/dev", Stream: "alice/hello", Format: shipper.FormatText,
		Linger: 20 * time.Millisecond, RetryBase: 20 * time.Millisecond, RetryMax: 2 * time.Second, RequestTimeout: 5 * time.Second,
		RefreshCredentials: func() { refreshes.Add(1); cache.Invalidate() },
		Notice:             func(n string) { nmu.Lock(); notices = append(notices, n); nmu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		for range 10 {
			s.Log(shipper.Event{Message: fmt.Sprintf("line %05d", n)})
			n++
		}
		time.Sleep(10 * time.Millisecond)
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := s.Close(cctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	p := cwl.NewGetLogEventsPaginator(admin, &cwl.GetLogEventsInput{LogGroupName: aws.String("keel/dev"), LogStreamName: aws.String("alice/hello"), StartFromHead: aws.Bool(true)},
		func(o *cwl.GetLogEventsPaginatorOptions) { o.StopOnDuplicateToken = true })
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.Events {
			got = append(got, *ev.Message)
		}
	}
	if len(got) != n {
		t.Fatalf("%d events arrived, %d logged", len(got), n)
	}
	for i, m := range got {
		if want := fmt.Sprintf("line %05d", i); m != want {
			t.Fatalf("event %d is %q, want %q", i, m, want)
		}
	}
	if refreshes.Load() == 0 || sessions.Load() < 2 {
		t.Fatalf("%d refreshes, %d sessions: the credentials never expired under the shipper", refreshes.Load(), sessions.Load())
	}
	if st := s.Stats(); st.Lost != 0 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("%d events, %d sessions, %d refreshes, notices %v", n, sessions.Load(), refreshes.Load(), notices)
}
