package logserver_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/keelvm/keel/logserver"
)

// rawServer starts a server without authentication and returns a function
// that posts one raw API request to it through client, and the server's
// stop (the caller's to call: some tests time it).
func rawServer(t *testing.T, client *http.Client) (post func(op, body string) *http.Response, stop func()) {
	t.Helper()
	st, stop, err := logserver.Start(logserver.RunConfig{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), AuthNone: true, Quotas: logserver.Quotas{Off: true},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	post = func(op, body string) *http.Response {
		req, err := http.NewRequest(http.MethodPost, st.Endpoint+"/", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", "Logs_20140328."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	return post, stop
}
