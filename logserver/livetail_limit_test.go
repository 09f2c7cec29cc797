package logserver_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestLiveTailSessionLimit: like the service's quota, at most 15 Live Tail
// sessions are open at once (each may buffer 64 MiB for a slow reader);
// one more is refused with LimitExceededException, and a session that
// ends makes room.
func TestLiveTailSessionLimit(t *testing.T) {
	post, stop := rawServer(t, &http.Client{Transport: &http.Transport{DisableKeepAlives: true}})
	defer stop()
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
