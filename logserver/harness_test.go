package logserver_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"

	"github.com/keelvm/keel/logserver"
	"github.com/keelvm/keel/logserver/auth"
)

// testServer is a real server on a loopback port, run in-process, with its
// data in a test temp dir.
type testServer struct {
	dir      string
	endpoint string
	admin    auth.Key
	keys     *auth.Keyring
}

type serverOpt func(*logserver.RunConfig)

func withAuthNone(rc *logserver.RunConfig) { rc.AuthNone = true }

// withQuotas enforces the service's default quotas, with rates overridden.
func withQuotas(rates map[string]float64) serverOpt {
	return func(rc *logserver.RunConfig) { rc.Quotas = logserver.Quotas{Rates: rates} }
}

func startServer(t testing.TB, opts ...serverOpt) *testServer {
	t.Helper()
	dir := t.TempDir()
	return startServerIn(t, dir, opts...)
}

func startServerIn(t testing.TB, dir string, opts ...serverOpt) *testServer {
	t.Helper()
	ready := make(chan logserver.State, 1)
	// Quotas off unless a test sets them (withQuotas): these tests check
	// what the server answers, not its pacing, and some send hundreds of
	// requests a second.
	rc := logserver.RunConfig{
		Addr: "127.0.0.1:0", DataDir: dir, Quotas: logserver.Quotas{Off: true},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ready:  func(s logserver.State) { ready <- s },
	}
	for _, o := range opts {
		o(&rc)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- logserver.Run(ctx, rc) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("server did not stop")
		}
	})
	var st logserver.State
	select {
	case st = <-ready:
	case err := <-done:
		t.Fatalf("server failed to start: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("server not ready")
	}
	ts := &testServer{dir: dir, endpoint: st.Endpoint}
	if !rc.AuthNone {
		kr, _, err := auth.OpenKeyring(dir)
		if err != nil {
			t.Fatal(err)
		}
		ts.keys = kr
		var ok bool
		if ts.admin, ok = kr.Admin(); !ok {
			t.Fatalf("no admin key in %s", filepath.Join(dir, "keys.json"))
		}
	}
	return ts
}

// client returns a real aws-sdk-go-v2 CloudWatch Logs client for key. It
// keeps the SDK's standard retries (3 attempts), as users' clients do: a
// connection lost on a loaded machine is retried, while every error code a
// test expects is either not retryable or the same on each attempt.
func (ts *testServer) client(key auth.Key) *cwl.Client {
	id, secret := key.ID, key.Secret
	if id == "" {
		id, secret = "AKIDANYTHING", "anything"
	}
	return cwl.New(cwl.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(ts.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(id, secret, ""),
	})
}

func (ts *testServer) adminClient() *cwl.Client { return ts.client(ts.admin) }

// apiCode returns the AWS error code of err, or "" for nil.
func apiCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "not an API error: " + err.Error()
}

func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func nowMs() int64 { return time.Now().UnixMilli() }
