package logserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/keelvm/keel/logserver/store"
)

func apiCall(s *Server, op string, in any) (int, map[string]any) {
	b, _ := json.Marshal(in)
	r := httptest.NewRequest("POST", "/", bytes.NewReader(b))
	r.Header.Set("X-Amz-Target", targetPrefix+op)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var out map[string]any
	json.Unmarshal(w.Body.Bytes(), &out)
	return w.Code, out
}

// TestQueryConcurrencyLimit: the 31st query running at once is refused
// with LimitExceededException, as the service's quota of 30 is; stopping
// one makes room.
func TestQueryConcurrencyLimit(t *testing.T) {
	s := newDirectServer(t)
	if err := s.store.CreateGroup("g", nil); err != nil {
		t.Fatal(err)
	}
	h := s.hub()
	h.mu.Lock()
	for i := 0; i < maxRunningQueries; i++ {
		id := fmt.Sprintf("q%d", i)
		h.queries[id] = &query{id: id, groups: []string{"g"}, status: "Running", cancel: func() {}}
		h.order = append(h.order, id)
	}
	h.mu.Unlock()
	in := map[string]any{"logGroupName": "g", "startTime": 0, "endTime": 10, "queryString": "stats count(*)"}
	code, out := apiCall(s, "StartQuery", in)
	if code != 400 || out["__type"] != "LimitExceededException" {
		t.Fatalf("31st query: %d %v", code, out)
	}
	if code, out := apiCall(s, "StopQuery", map[string]any{"queryId": "q0"}); code != 200 || out["success"] != true {
		t.Fatalf("StopQuery: %d %v", code, out)
	}
	if code, out := apiCall(s, "StartQuery", in); code != 200 || out["queryId"] == "" {
		t.Fatalf("after a stop: %d %v", code, out)
	}
}

// TestQueryTimeout: a query that outlives the timeout ends with status
// Timeout.
func TestQueryTimeout(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Store: st, TokenKey: bytes.Repeat([]byte("k"), 32), QueryTimeout: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	st.CreateGroup("g", nil)
	st.CreateStream("g", "s")
	st.Append("g", "s", []store.Event{{Timestamp: 1000, Message: "x"}})
	_, out := apiCall(s, "StartQuery", map[string]any{"logGroupName": "g", "startTime": 0, "endTime": 10, "queryString": "stats count(*)"})
	id := out["queryId"]
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_, res := apiCall(s, "GetQueryResults", map[string]any{"queryId": id})
		if st := res["status"]; st != "Scheduled" && st != "Running" {
			if st != "Timeout" {
				t.Fatalf("status %v, want Timeout", st)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("query did not end")
}
