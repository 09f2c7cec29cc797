package logs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// Query runs a Logs Insights query on any CloudWatch Logs endpoint (keel's
// local server or AWS): StartQuery, GetQueryResults until the query ends,
// StopQuery when ctx ends first.
type Query struct {
	Client *cwl.Client
	Groups []string
	Text   string
	// Start and End bound the events' timestamps; the service takes whole
	// seconds, End inclusive. A zero End means now.
	Start, End time.Time
	Limit      int // 0: the query's own limit, or the service's 10,000
	// Progress, when set, hears the query's status and records scanned
	// and matched after each poll.
	Progress func(status string, scanned, matched int64)
	// Poll is the time between GetQueryResults calls (default 300ms).
	Poll time.Duration
}

// QueryResult is a finished query's answer.
type QueryResult struct {
	Columns []string            // fields in the order rows first show them, @ptr aside
	Rows    []map[string]string // @ptr included
	Scanned int64
	Matched int64
}

// QueryError is a query the service refused as malformed: Mark shows where.
type QueryError struct {
	Query      string
	Start, End int // character offsets; -1 when the service gave none
	Message    string
}

func (e *QueryError) Error() string {
	if e.Start < 0 {
		return "malformed query: " + e.Message
	}
	return "malformed query:\n" + e.Mark()
}

// Mark renders the query's line with the place marked under it.
func (e *QueryError) Mark() string {
	runes := []rune(e.Query)
	start := min(max(e.Start, 0), len(runes))
	end := min(max(e.End, start+1), len(runes))
	ls := start
	for ls > 0 && runes[ls-1] != '\n' {
		ls--
	}
	le := start
	for le < len(runes) && runes[le] != '\n' {
		le++
	}
	end = min(end, max(le, start+1))
	return fmt.Sprintf("  %s\n  %s%s\n%s", string(runes[ls:le]), strings.Repeat(" ", start-ls), strings.Repeat("^", max(1, end-start)), e.Message)
}

// Run starts the query and waits for its end.
func (q *Query) Run(ctx context.Context) (*QueryResult, error) {
	end := q.End
	if end.IsZero() {
		end = time.Now()
	}
	in := &cwl.StartQueryInput{LogGroupNames: q.Groups, QueryString: aws.String(q.Text),
		StartTime: aws.Int64(q.Start.Unix()), EndTime: aws.Int64(end.Unix())}
	if q.Limit > 0 {
		in.Limit = aws.Int32(int32(q.Limit))
	}
	sq, err := q.Client.StartQuery(ctx, in)
	if err != nil {
		var mq *types.MalformedQueryException
		if errors.As(err, &mq) {
			qe := &QueryError{Query: q.Text, Start: -1, End: -1, Message: aws.ToString(mq.Message)}
			if ce := mq.QueryCompileError; ce != nil {
				if ce.Message != nil {
					qe.Message = *ce.Message
				}
				if l := ce.Location; l != nil && l.StartCharOffset != nil {
					qe.Start = int(*l.StartCharOffset)
					qe.End = int(aws.ToInt32(l.EndCharOffset))
				}
			}
			return nil, qe
		}
		return nil, fmt.Errorf("start query: %w", err)
	}
	poll := q.Poll
	if poll <= 0 {
		poll = 300 * time.Millisecond
	}
	for {
		out, err := q.Client.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: sq.QueryId})
		if err != nil {
			if ctx.Err() != nil {
				q.stop(sq.QueryId)
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("get query results: %w", err)
		}
		var scanned, matched int64
		if s := out.Statistics; s != nil {
			scanned, matched = int64(s.RecordsScanned), int64(s.RecordsMatched)
		}
		if q.Progress != nil {
			q.Progress(string(out.Status), scanned, matched)
		}
		switch out.Status {
		case types.QueryStatusComplete:
			return resultOf(out, scanned, matched), nil
		case types.QueryStatusScheduled, types.QueryStatusRunning, "":
		default:
			return nil, queryEnded(out.Status, aws.ToString(sq.QueryId))
		}
		select {
		case <-ctx.Done():
			q.stop(sq.QueryId)
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// stop cancels a query the user no longer waits for, so that it does not
// count against the 30 concurrent queries.
func (q *Query) stop(id *string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = q.Client.StopQuery(ctx, &cwl.StopQueryInput{QueryId: id})
}

func resultOf(out *cwl.GetQueryResultsOutput, scanned, matched int64) *QueryResult {
	r := &QueryResult{Scanned: scanned, Matched: matched}
	seen := map[string]bool{}
	for _, row := range out.Results {
		m := make(map[string]string, len(row))
		for _, f := range row {
			name := aws.ToString(f.Field)
			m[name] = aws.ToString(f.Value)
			if name != "@ptr" && !seen[name] {
				seen[name] = true
				r.Columns = append(r.Columns, name)
			}
		}
		r.Rows = append(r.Rows, m)
	}
	return r
}

// WriteTable writes the rows as an aligned table with a header; a missing
// value is blank. Newlines inside values show as \n.
func (r *QueryResult) WriteTable(w io.Writer) error {
	if len(r.Columns) == 0 {
		_, err := fmt.Fprintf(w, "no results (%d records scanned)\n", r.Scanned)
		return err
	}
	cell := func(s string) string { return strings.NewReplacer("\n", `\n`, "\t", " ").Replace(s) }
	widths := make([]int, len(r.Columns))
	for i, c := range r.Columns {
		widths[i] = utf8.RuneCountInString(c)
		for _, row := range r.Rows {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell(row[c])))
		}
	}
	var b strings.Builder
	line := func(vals func(i int) string) {
		for i := range r.Columns {
			v := vals(i)
			b.WriteString(v)
			if i < len(r.Columns)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(v)+2))
			}
		}
		b.WriteByte('\n')
	}
	line(func(i int) string { return r.Columns[i] })
	line(func(i int) string { return strings.Repeat("-", widths[i]) })
	for _, row := range r.Rows {
		line(func(i int) string { return cell(row[r.Columns[i]]) })
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes one JSON object per row, @ptr included.
func (r *QueryResult) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, row := range r.Rows {
		if err := enc.Encode(row); err != nil {
			return err
		}
	}
	return nil
}

// queryEnded explains a query's end other than Complete. GetQueryResults
// carries no reason (its output is status, results, statistics), so the
// message says where the reason is: keel logserver logs it with the id.
func queryEnded(status types.QueryStatus, id string) error {
	switch status {
	case types.QueryStatusTimeout:
		return fmt.Errorf("query %s ended with status Timeout: it ran longer than the service allows (60 minutes); narrow the time range (-since, -until) or the groups", id)
	case types.QueryStatusCancelled:
		return fmt.Errorf("query %s ended with status Cancelled: StopQuery stopped it, or the server shut down", id)
	}
	return fmt.Errorf("query %s ended with status %s; the API gives no reason: with keel logserver, its log has it (query_id=%s); on AWS, run the query in the CloudWatch console", id, status, id)
}
