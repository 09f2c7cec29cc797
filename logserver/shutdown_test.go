package logserver_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// TestShutdownEndsLiveTail stops a server while a live tail session is open.
// A session lasts up to hours, so a graceful shutdown must end it instead of
// waiting out its grace period and then returning with the session still
// streaming updates from a server whose store is closed.
func TestShutdownEndsLiveTail(t *testing.T) {
	post, stop := rawServer(t, http.DefaultClient)
	resp := post("CreateLogGroup", `{"logGroupName":"g"}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CreateLogGroup: %s", resp.Status)
	}
	tail := post("StartLiveTail", `{"logGroupIdentifiers":["g"]}`)
	defer tail.Body.Close()
	if tail.StatusCode != http.StatusOK {
		t.Fatalf("StartLiveTail: %s", tail.Status)
	}
	// The session's last frame tells the client why it ended.
	ended := make(chan string, 1)
	go func() {
		dec := eventstream.NewDecoder()
		last := ""
		for {
			msg, err := dec.Decode(tail.Body, nil)
			if err != nil {
				ended <- last
				return
			}
			if h := msg.Headers.Get(":exception-type"); h != nil {
				last = h.String()
			} else if h := msg.Headers.Get(":event-type"); h != nil {
				last = h.String()
			}
		}
	}()
	// Let the session send an update or two.
	time.Sleep(1500 * time.Millisecond)

	t0 := time.Now()
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop")
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("stopping with a live tail session open took %v", d.Round(time.Millisecond))
	}
	select {
	case last := <-ended:
		if last != "SessionStreamingException" {
			t.Errorf("the session's last frame is %q, want a SessionStreamingException", last)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the live tail session still streams after the server stopped")
	}
}
