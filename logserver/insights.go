package logserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/keelvm/keel/insights"
	"github.com/keelvm/keel/logserver/store"
)

// The Logs Insights operations: StartQuery runs a query in the background
// over the store's segments (package insights evaluates it),
// GetQueryResults shows its rows so far, StopQuery cancels it,
// DescribeQueries lists queries and GetLogRecord reads one event by @ptr.

const (
	// maxRunningQueries is the service's quota of concurrent queries per
	// account (Scheduled or Running).
	maxRunningQueries = 30
	// defaultQueryTimeout is the service's: a query ends with status
	// Timeout after 60 minutes.
	defaultQueryTimeout = 60 * time.Minute
	// keepQueries bounds the finished queries kept for GetQueryResults and
	// DescribeQueries; the oldest finished go first.
	keepQueries = 1000
	// maxQueryGroups is the most log groups one query may name.
	maxQueryGroups = 50
)

// queryHub holds the server's queries.
type queryHub struct {
	mu      sync.Mutex
	queries map[string]*query
	order   []string // ids, oldest first
	timeout time.Duration
	closing bool           // set by Close: StartQuery is refused
	wg      sync.WaitGroup // the running queries' goroutines
}

type query struct {
	id      string
	text    string
	groups  []string
	created int64 // ms
	exec    *insights.Exec
	cancel  context.CancelFunc

	mu       sync.Mutex
	status   string
	failure  string
	finished int64 // ms, 0 while it runs

	// Results are computed at most once per partialEvery while the query
	// runs (a snapshot of a large stats costs time the query itself then
	// waits for), and once when it is done.
	resMu    sync.Mutex
	results  [][]insights.Field
	resAt    time.Time
	resEvery time.Duration
	resFinal bool
}

// partialEvery is how stale a running query's partial results may be.
const partialEvery = time.Second

// rows returns the query's results, from the cache when fresh enough.
func (q *query) rows(done bool) [][]insights.Field {
	q.resMu.Lock()
	defer q.resMu.Unlock()
	if q.resFinal || (!done && q.results != nil && time.Since(q.resAt) < q.resEvery) {
		return q.results
	}
	t0 := time.Now()
	q.results = q.exec.Results()
	q.resAt = time.Now()
	// A snapshot holds the query up while it is taken: keep that under a
	// fifth of the query's time however often clients poll.
	q.resEvery = max(partialEvery, 4*q.resAt.Sub(t0))
	q.resFinal = done
	return q.results
}

func (q *query) state() (string, string, int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.status, q.failure, q.finished
}

func (q *query) setStatus(status, failure string, now int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.status == "Cancelled" && status != "Cancelled" {
		return // StopQuery won the race
	}
	q.status, q.failure = status, failure
	if status != "Scheduled" && status != "Running" && q.finished == 0 {
		q.finished = now
	}
}

func (s *Server) hub() *queryHub {
	s.queriesOnce.Do(func() {
		s.queries = &queryHub{queries: map[string]*query{}, timeout: s.cfg.QueryTimeout}
		if s.queries.timeout <= 0 {
			s.queries.timeout = defaultQueryTimeout
		}
	})
	return s.queries
}

func (s *Server) insightsOps() map[string]handler {
	return map[string]handler{
		"StartQuery":      s.startQuery,
		"GetQueryResults": s.getQueryResults,
		"StopQuery":       s.stopQuery,
		"DescribeQueries": s.describeQueries,
		"GetLogRecord":    s.getLogRecord,
	}
}

type startQueryInput struct {
	LogGroupName        *string  `json:"logGroupName"`
	LogGroupNames       []string `json:"logGroupNames"`
	LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	QueryString         *string  `json:"queryString"`
	Limit               *int64   `json:"limit"`
	QueryLanguage       *string  `json:"queryLanguage"`
}

func errMalformedQuery(ce *insights.CompileError) *apiError {
	// The service counts characters, not bytes.
	start := utf8.RuneCountInString(ce.Query[:ce.Start])
	end := utf8.RuneCountInString(ce.Query[:ce.End])
	return &apiError{Status: http.StatusBadRequest, Code: "MalformedQueryException",
		Message: fmt.Sprintf("line %d:%d %s", ce.Line, start, ce.Message),
		Extra: map[string]any{"queryCompileError": map[string]any{
			"location": map[string]any{"startCharOffset": start, "endCharOffset": end, "line": ce.Line},
			"message":  ce.Message,
		}}}
}

func (s *Server) startQuery(c *call) (any, *apiError) {
	var in startQueryInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	if in.QueryString == nil {
		v.addNull("queryString")
	} else if n := utf8.RuneCountInString(*in.QueryString); n > 10000 {
		v.add("...", "queryString", "Member must have length less than or equal to 10000")
	}
	if in.StartTime == nil {
		v.addNull("startTime")
	}
	if in.EndTime == nil {
		v.addNull("endTime")
	}
	v.checkTime("startTime", in.StartTime)
	v.checkTime("endTime", in.EndTime)
	v.checkLimit("limit", in.Limit, insights.MaxRows)
	if in.QueryLanguage != nil && *in.QueryLanguage != "CWLI" {
		v.add(*in.QueryLanguage, "queryLanguage", "Member must satisfy enum value set: [CWLI] (keel's server speaks the Logs Insights language only)")
	}
	var groups []string
	forms := 0
	if in.LogGroupName != nil {
		forms++
		v.checkGroupName("logGroupName", in.LogGroupName, true)
		groups = append(groups, *in.LogGroupName)
	}
	if in.LogGroupNames != nil {
		forms++
		for i := range in.LogGroupNames {
			v.checkGroupName(fmt.Sprintf("logGroupNames.%d.member", i+1), &in.LogGroupNames[i], true)
		}
		groups = append(groups, in.LogGroupNames...)
	}
	if in.LogGroupIdentifiers != nil {
		forms++
		for _, id := range in.LogGroupIdentifiers {
			groups = append(groups, s.groupFromIdentifier(id))
		}
	}
	if len(groups) > maxQueryGroups {
		v.add(fmt.Sprintf("[%d groups]", len(groups)), "logGroupNames", fmt.Sprintf("Member must have length less than or equal to %d", maxQueryGroups))
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	if forms != 1 || len(groups) == 0 {
		return nil, errInvalidParameter("Give exactly one of logGroupName, logGroupNames or logGroupIdentifiers, naming at least one log group.")
	}
	if *in.EndTime < *in.StartTime {
		return nil, errInvalidParameter("endTime (%d) is before startTime (%d); both are epoch seconds", *in.EndTime, *in.StartTime)
	}
	q, err := insights.Parse(*in.QueryString)
	if err != nil {
		var ce *insights.CompileError
		if errors.As(err, &ce) {
			return nil, errMalformedQuery(ce)
		}
		return nil, errInvalidParameter("%v", err)
	}
	groups = dedupStrings(groups)
	type target struct {
		group   string
		streams []store.Stream
		cutoff  int64
	}
	var targets []target
	for _, g := range groups {
		if e := s.authorize(c, g, ""); e != nil {
			return nil, e
		}
		info, err := s.store.Group(g)
		if err != nil {
			if errors.Is(err, store.ErrGroupNotFound) {
				return nil, errResourceNotFound(fmt.Sprintf("Log group '%s' does not exist for account ID '%s'", g, s.cfg.Account))
			}
			return nil, storeError(err)
		}
		streams, err := s.store.Streams(g)
		if err != nil {
			return nil, storeError(err)
		}
		targets = append(targets, target{group: g, streams: streams, cutoff: s.retentionCutoff(info)})
	}
	rng := store.Range{Start: *in.StartTime * 1000}
	if *in.EndTime < (1<<62)/1000 {
		rng.End = (*in.EndTime + 1) * 1000 // endTime is inclusive, in seconds
	}

	h := s.hub()
	id := newQueryID()
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
	qr := &query{id: id, text: *in.QueryString, groups: groups, created: s.nowMs(), exec: q.NewExec(limitOr(in.Limit, 0)), cancel: cancel, status: "Scheduled"}
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		cancel()
		return nil, errServiceUnavailable("The server is shutting down: start the query again once it runs.")
	}
	running := 0
	for _, o := range h.queries {
		if st, _, _ := o.state(); st == "Scheduled" || st == "Running" {
			running++
		}
	}
	if running >= maxRunningQueries {
		h.mu.Unlock()
		cancel()
		return nil, &apiError{Status: http.StatusBadRequest, Code: "LimitExceededException",
			Message: fmt.Sprintf("Account maximum query concurrency limit of [%d] reached. Wait for a query to finish, or stop one with StopQuery.", maxRunningQueries)}
	}
	h.queries[id] = qr
	h.order = append(h.order, id)
	h.evictLocked()
	h.wg.Add(1) // under h.mu: Close waits for every query it did not refuse
	h.mu.Unlock()

	go s.runQuery(ctx, cancel, qr, func(yield func(*insights.Event) bool) error {
		var ev insights.Event
		for _, t := range targets {
			for _, st := range t.streams {
				ev.Group, ev.Stream, ev.StreamID = t.group, st.Name, st.ID
				ev.Log = s.cfg.Account + ":" + t.group
				stopped := false
				_, err := s.store.Scan(t.group, st.Name, rng, t.cutoff, func(se *store.ScanEvent) bool {
					ev.Timestamp, ev.IngestionTime, ev.Seq, ev.Message = se.Timestamp, se.IngestionTime, se.Seq, se.Message
					if !yield(&ev) {
						stopped = true
						return false
					}
					return true
				})
				if stopped {
					return nil
				}
				if err != nil && !errors.Is(err, store.ErrStreamNotFound) {
					return err // a stream deleted meanwhile is skipped
				}
			}
		}
		return nil
	})
	return map[string]string{"queryId": id}, nil
}

// runQuery runs qr over scan and records how it ended. A panic in the
// engine fails the query, never the server: the query runs on its own
// goroutine, where an unrecovered panic would end the process.
func (s *Server) runQuery(ctx context.Context, cancel context.CancelFunc, qr *query, scan func(yield func(*insights.Event) bool) error) {
	h := s.hub()
	defer h.wg.Done()
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("query failed: a bug in the query engine", "query_id", qr.id, "query", qr.text, "panic", r, "stack", string(debug.Stack()))
			qr.setStatus("Failed", fmt.Sprintf("the query engine failed (%v): report the query as a keel bug", r), s.nowMs())
		}
	}()
	qr.setStatus("Running", "", 0)
	err := qr.exec.Run(ctx, scan)
	now := s.nowMs()
	switch {
	case err == nil:
		qr.setStatus("Complete", "", now)
	case errors.Is(err, context.DeadlineExceeded):
		qr.setStatus("Timeout", fmt.Sprintf("the query ran longer than %v", h.timeout), now)
	case errors.Is(err, context.Canceled):
		qr.setStatus("Cancelled", "", now)
	default:
		s.log.Warn("query failed", "query_id", qr.id, "error", err)
		qr.setStatus("Failed", err.Error(), now)
	}
}

// evictLocked drops the oldest finished queries beyond keepQueries.
func (h *queryHub) evictLocked() {
	for len(h.order) > keepQueries {
		dropped := false
		for i, id := range h.order {
			if st, _, _ := h.queries[id].state(); st != "Scheduled" && st != "Running" {
				delete(h.queries, id)
				h.order = append(h.order[:i], h.order[i+1:]...)
				dropped = true
				break
			}
		}
		if !dropped {
			return
		}
	}
}

func dedupStrings(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func newQueryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

type queryIDInput struct {
	QueryID *string `json:"queryId"`
}

// lookupQuery finds a query and checks that the caller may read every
// group it ran over.
func (s *Server) lookupQuery(c *call, id *string) (*query, *apiError) {
	var v violations
	if id == nil {
		v.addNull("queryId")
	} else if len(*id) < 1 || len(*id) > 256 {
		v.add(*id, "queryId", "Member must have length less than or equal to 256")
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	h := s.hub()
	h.mu.Lock()
	q := h.queries[*id]
	h.mu.Unlock()
	if q == nil {
		return nil, errResourceNotFound(fmt.Sprintf("Query %s does not exist or has expired; start it again with StartQuery.", *id))
	}
	for _, g := range q.groups {
		if e := s.authorize(c, g, ""); e != nil {
			return nil, e
		}
	}
	return q, nil
}

type queryStatistics struct {
	RecordsMatched float64 `json:"recordsMatched"`
	RecordsScanned float64 `json:"recordsScanned"`
	BytesScanned   float64 `json:"bytesScanned"`
}

type getQueryResultsOutput struct {
	Results       [][]insights.Field `json:"results"`
	Statistics    queryStatistics    `json:"statistics"`
	Status        string             `json:"status"`
	QueryLanguage string             `json:"queryLanguage"`
}

func (s *Server) getQueryResults(c *call) (any, *apiError) {
	var in queryIDInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	q, e := s.lookupQuery(c, in.QueryID)
	if e != nil {
		return nil, e
	}
	status, _, _ := q.state()
	out := getQueryResultsOutput{Status: status, QueryLanguage: "CWLI", Results: [][]insights.Field{}}
	if status != "Scheduled" {
		out.Results = q.rows(status != "Running")
	}
	st := q.exec.Stats()
	out.Statistics = queryStatistics{RecordsMatched: float64(st.RecordsMatched), RecordsScanned: float64(st.RecordsScanned), BytesScanned: float64(st.BytesScanned)}
	return out, nil
}

func (s *Server) stopQuery(c *call) (any, *apiError) {
	var in queryIDInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	q, e := s.lookupQuery(c, in.QueryID)
	if e != nil {
		return nil, e
	}
	q.mu.Lock()
	ok := q.status == "Scheduled" || q.status == "Running"
	if ok {
		q.status = "Cancelled"
		q.finished = s.nowMs()
	}
	q.mu.Unlock()
	q.cancel()
	return map[string]bool{"success": ok}, nil
}

type describeQueriesInput struct {
	LogGroupName  *string `json:"logGroupName"`
	Status        *string `json:"status"`
	MaxResults    *int64  `json:"maxResults"`
	NextToken     *string `json:"nextToken"`
	QueryLanguage *string `json:"queryLanguage"`
}

type queryInfo struct {
	QueryID       string `json:"queryId"`
	QueryString   string `json:"queryString"`
	Status        string `json:"status"`
	CreateTime    int64  `json:"createTime"`
	LogGroupName  string `json:"logGroupName"`
	QueryLanguage string `json:"queryLanguage"`
}

var queryStatuses = []string{"Scheduled", "Running", "Complete", "Failed", "Cancelled", "Timeout", "Unknown"}

func (s *Server) describeQueries(c *call) (any, *apiError) {
	var in describeQueriesInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	v.checkGroupName("logGroupName", in.LogGroupName, false)
	v.checkLimit("maxResults", in.MaxResults, 1000)
	if in.Status != nil && !contains(queryStatuses, *in.Status) {
		v.add(*in.Status, "status", "Member must satisfy enum value set: ["+strings.Join(queryStatuses, ", ")+"]")
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	// Listing every query would show other groups' query texts: a scoped
	// key must name its group.
	if e := s.authorize(c, deref(in.LogGroupName), ""); e != nil {
		return nil, e
	}
	h := s.hub()
	h.mu.Lock()
	var list []*query
	for _, id := range h.order {
		list = append(list, h.queries[id])
	}
	h.mu.Unlock()
	out := []queryInfo{}
	for i := len(list) - 1; i >= 0; i-- {
		q := list[i]
		status, _, _ := q.state()
		if in.Status != nil && *in.Status != status {
			continue
		}
		if in.LogGroupName != nil && !contains(q.groups, *in.LogGroupName) {
			continue
		}
		out = append(out, queryInfo{QueryID: q.id, QueryString: q.text, Status: status, CreateTime: q.created, LogGroupName: q.groups[0], QueryLanguage: "CWLI"})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreateTime > out[j].CreateTime })
	if n := limitOr(in.MaxResults, 1000); len(out) > n {
		out = out[:n]
	}
	return map[string]any{"queries": out}, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type getLogRecordInput struct {
	LogRecordPointer *string `json:"logRecordPointer"`
	Unmask           *bool   `json:"unmask"`
}

func (s *Server) getLogRecord(c *call) (any, *apiError) {
	var in getLogRecordInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	if in.LogRecordPointer == nil {
		var v violations
		v.addNull("logRecordPointer")
		return nil, v.err()
	}
	group, streamID, seq, ts, err := insights.DecodePtr(*in.LogRecordPointer)
	if err != nil {
		return nil, errInvalidParameter("The specified logRecordPointer is invalid: give an @ptr value from GetQueryResults.")
	}
	// Authorize before answering whether the record exists: a key denied
	// gets the same AccessDenied, on the group, whether the group and the
	// stream exist or not, so a pointer cannot probe what it may not read.
	st, err := s.store.StreamByID(group, streamID)
	stream := ""
	if err == nil {
		stream = st.Name
	}
	if e := s.authorize(c, group, stream); e != nil {
		if ge := s.authorize(c, group, ""); ge != nil {
			return nil, ge // named on the group: nothing about the stream
		}
		return nil, e // allowed on the group, which it may list anyway
	}
	if err != nil {
		if errors.Is(err, store.ErrGroupNotFound) || errors.Is(err, store.ErrStreamNotFound) {
			return nil, errResourceNotFound("The log record no longer exists: its log group or stream was deleted.")
		}
		return nil, storeError(err)
	}
	evs, err := s.store.Read(group, st.Name, store.ReadOptions{Range: store.Range{Start: ts, End: ts + 1}, Limit: 10000})
	if err != nil {
		return nil, storeError(err)
	}
	for _, ev := range evs {
		if ev.Seq != seq {
			continue
		}
		rec := map[string]string{
			"@timestamp":     fmt.Sprint(ev.Timestamp),
			"@ingestionTime": fmt.Sprint(ev.IngestionTime),
			"@message":       ev.Message,
			"@logStream":     st.Name,
			"@log":           s.cfg.Account + ":" + group,
		}
		for _, f := range insights.DiscoverFields([]byte(ev.Message)) {
			rec[f.Field] = f.Value
		}
		return map[string]any{"logRecord": rec}, nil
	}
	return nil, errResourceNotFound("The log record no longer exists (retention or deletion removed it).")
}

// stopQueries cancels the running queries when the server closes, refuses
// new ones, and waits for their scans to end: the store closes next.
func (s *Server) stopQueries() {
	h := s.hub()
	h.mu.Lock()
	h.closing = true
	for _, q := range h.queries {
		q.cancel()
	}
	h.mu.Unlock()
	h.wg.Wait()
}
