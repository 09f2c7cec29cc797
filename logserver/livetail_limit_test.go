package logserver_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keelvm/keel/logserver"
)

// TestLiveTailSessionLimit: like the service's quota, at most 15 Live Tail
// sessions are open at once (each may buffer 64 MiB for a slow reader);
// one more is refused with LimitExceededException, and a session that
// ends makes room.
func TestLiveTailSessionLimit(t *testing.T) {
	st, stop, err := logserver.Start(logserver.RunConfig{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), AuthNone: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	post := func(op, body string) *http.Response {
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
	resp := post("CreateLogGroup", `{"logGroupName":"g"}`)
	resp.Body.Close()
	var open []*http.Response
	defer func() {
		for _, r := range open {
			r.Body.Close()
		}
	}()
	for i := 0; i < 15; i++ {
		r := post("StartLiveTail", `{"logGroupIdentifiers":["g"]}`)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("session %d: %s", i+1, r.Status)
		}
		open = append(open, r)
	}
	r := post("StartLiveTail", `{"logGroupIdentifiers":["g"]}`)
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "LimitExceededException") {
		t.Fatalf("session 16: %s %s, want 400 LimitExceededException", r.Status, body)
	}
	open[0].Body.Close()
	open = open[1:]
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r := post("StartLiveTail", `{"logGroupIdentifiers":["g"]}`)
		if r.StatusCode == http.StatusOK {
			open = append(open, r)
			break
		}
		r.Body.Close()
		if time.Now().After(deadline) {
			t.Fatalf("an ended session did not make room: %s", r.Status)
		}
	}
}
