package logserver

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keelvm/keel/insights"
)

// registerQuery adds a running query to s's hub, as StartQuery does.
func registerQuery(t *testing.T, s *Server, id string) (*query, context.Context, context.CancelFunc) {
	t.Helper()
	q, err := insights.Parse("stats count(*)")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	qr := &query{id: id, text: "stats count(*)", groups: []string{"g"}, exec: q.NewExec(0), cancel: cancel, status: "Scheduled"}
	h := s.hub()
	h.mu.Lock()
	h.queries[id] = qr
	h.order = append(h.order, id)
	h.wg.Add(1)
	h.mu.Unlock()
	return qr, ctx, cancel
}

// TestQueryPanicFails: a panic in a query's run fails that query, with a
// reason, and the server goes on answering.
func TestQueryPanicFails(t *testing.T) {
	s := newDirectServer(t)
	qr, ctx, cancel := registerQuery(t, s, "qpanic")
	s.runQuery(ctx, cancel, qr, func(func(*insights.Event) bool) error {
		var rs []rune
		_ = rs[len(rs)+1] // what a bug looks like: an index out of range
		return nil
	})
	st, failure, finished := qr.state()
	if st != "Failed" || !strings.Contains(failure, "index out of range") || finished == 0 {
		t.Fatalf("after a panic: status %q, failure %q, finished %d; want Failed with the panic", st, failure, finished)
	}
	if code, out := apiCall(s, "GetQueryResults", map[string]any{"queryId": "qpanic"}); code != 200 || out["status"] != "Failed" {
		t.Fatalf("GetQueryResults: %d %v", code, out)
	}
	if code, out := apiCall(s, "DescribeLogGroups", map[string]any{}); code != 200 {
		t.Fatalf("the server after a query's panic: %d %v", code, out)
	}
}

// TestCloseWaitsForQueries: Close returns only once every running query's
// scan has ended (the store closes next), and StartQuery is refused from
// then on.
func TestCloseWaitsForQueries(t *testing.T) {
	s := newDirectServer(t)
	if err := s.store.CreateGroup("g", nil); err != nil {
		t.Fatal(err)
	}
	qr, ctx, cancel := registerQuery(t, s, "qslow")
	started := make(chan struct{})
	var ended atomic.Bool
	go s.runQuery(ctx, cancel, qr, func(func(*insights.Event) bool) error {
		close(started)
		<-ctx.Done()
		time.Sleep(200 * time.Millisecond) // a scan finishing its read
		ended.Store(true)
		return ctx.Err()
	})
	<-started
	s.Close()
	if !ended.Load() {
		t.Fatal("Close returned while a query's scan still ran")
	}
	if st, _, _ := qr.state(); st != "Cancelled" {
		t.Errorf("the query after Close: %q, want Cancelled", st)
	}
	in := map[string]any{"logGroupName": "g", "startTime": 0, "endTime": 10, "queryString": "stats count(*)"}
	if code, out := apiCall(s, "StartQuery", in); code == 200 || out["__type"] != "ServiceUnavailableException" {
		t.Fatalf("StartQuery after Close: %d %v, want ServiceUnavailableException", code, out)
	}
}
