package logserver

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/keelvm/keel/logserver/store"
)

type filterLogEventsInput struct {
	LogGroupName        *string  `json:"logGroupName"`
	LogGroupIdentifier  *string  `json:"logGroupIdentifier"`
	LogStreamNames      []string `json:"logStreamNames"`
	LogStreamNamePrefix *string  `json:"logStreamNamePrefix"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	FilterPattern       *string  `json:"filterPattern"`
	NextToken           *string  `json:"nextToken"`
	Limit               *int64   `json:"limit"`
	Interleaved         *bool    `json:"interleaved"`
	Unmask              *bool    `json:"unmask"`
}

type filteredLogEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

type filterLogEventsOutput struct {
	Events             []filteredLogEvent `json:"events"`
	SearchedLogStreams []struct{}         `json:"searchedLogStreams"`
	NextToken          string             `json:"nextToken,omitempty"`
}

// eventID is stable for the life of the event: tailers de-duplicate by it.
func eventID(ts int64, streamID, seq uint64) string {
	return fmt.Sprintf("%020d%018d%018d", ts, streamID, seq)
}

func (s *Server) filterLogEvents(c *call) (any, *apiError) {
	var in filterLogEventsInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	group := s.resolveGroup(&v, in.LogGroupName, in.LogGroupIdentifier)
	if in.LogStreamNames != nil {
		if len(in.LogStreamNames) < 1 || len(in.LogStreamNames) > 100 {
			v.add(fmt.Sprintf("[%d names]", len(in.LogStreamNames)), "logStreamNames", lengthConstraint(len(in.LogStreamNames), 1, 100))
		}
		for i := range in.LogStreamNames {
			v.checkStreamName(fmt.Sprintf("logStreamNames.%d.member", i+1), &in.LogStreamNames[i], true)
		}
	}
	v.checkPrefix("logStreamNamePrefix", in.LogStreamNamePrefix, false)
	v.checkTime("startTime", in.StartTime)
	v.checkTime("endTime", in.EndTime)
	v.checkLimit("limit", in.Limit, 10000)
	v.checkToken("nextToken", in.NextToken)
	if e := v.err(); e != nil {
		return nil, e
	}
	if e := groupChoice(in.LogGroupName, in.LogGroupIdentifier); e != nil {
		return nil, e
	}
	if in.LogStreamNames != nil && in.LogStreamNamePrefix != nil {
		return nil, errInvalidParameter("logStreamNames and logStreamNamePrefix are mutually exclusive. Only one can be specified.")
	}
	pattern, e := compilePattern("filterPattern", in.FilterPattern)
	if e != nil {
		return nil, e
	}
	if e := s.authorize(c, group, ""); e != nil {
		return nil, e
	}
	g, err := s.store.Group(group)
	if err != nil {
		return nil, storeError(err)
	}
	streams, err := s.selectStreams(group, in.LogStreamNames, deref(in.LogStreamNamePrefix))
	if err != nil {
		return nil, storeError(err)
	}
	scope := "filter|" + group + "|" + strings.Join(in.LogStreamNames, "\x00") + "|" + deref(in.LogStreamNamePrefix)
	var from *eventPos
	if in.NextToken != nil {
		payload, ok := s.tokens.open("t/", scope, *in.NextToken)
		p, ok2 := posFrom(payload)
		if !ok || !ok2 {
			return nil, errInvalidParameter(msgBadToken)
		}
		from = &p
	}
	rng := store.Range{Start: deref(in.StartTime)}
	if in.EndTime != nil && *in.EndTime < math.MaxInt64 {
		rng.End = *in.EndTime + 1 // FilterLogEvents' endTime is inclusive
	}
	limit := limitOr(in.Limit, 10000)
	page, more, err := s.mergeStreams(group, streams, rng, from, limit, s.retentionCutoff(g), bytesMatcher(pattern))
	if err != nil {
		return nil, storeError(err)
	}
	out := filterLogEventsOutput{Events: make([]filteredLogEvent, 0, len(page)), SearchedLogStreams: []struct{}{}}
	for _, ev := range page {
		out.Events = append(out.Events, filteredLogEvent{
			LogStreamName: ev.stream, Timestamp: ev.Timestamp, Message: ev.Message,
			IngestionTime: ev.IngestionTime, EventID: eventID(ev.Timestamp, ev.StreamID, ev.Seq),
		})
	}
	if more && len(page) > 0 {
		last := page[len(page)-1]
		out.NextToken = s.tokens.seal("t/", scope, eventPos{TS: last.Timestamp, StreamID: last.StreamID, Seq: last.Seq}.bytes())
	}
	return out, nil
}

func lengthConstraint(n, lo, hi int) string {
	if n < lo {
		return fmt.Sprintf("Member must have length greater than or equal to %d", lo)
	}
	return fmt.Sprintf("Member must have length less than or equal to %d", hi)
}

// selectStreams returns the streams a filter reads, ordered by id, the
// tie-break of the (timestamp, stream, seq) order. Named streams that do not
// exist are skipped, as the service does.
func (s *Server) selectStreams(group string, names []string, prefix string) ([]store.Stream, error) {
	all, err := s.store.Streams(group)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []store.Stream
	for _, st := range all {
		if (len(want) == 0 || want[st.Name]) && strings.HasPrefix(st.Name, prefix) {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

type namedEvent struct {
	store.StoredEvent
	stream string
}

func (e namedEvent) before(o namedEvent) bool {
	if e.Timestamp != o.Timestamp {
		return e.Timestamp < o.Timestamp
	}
	if e.StreamID != o.StreamID {
		return e.StreamID < o.StreamID
	}
	return e.Seq < o.Seq
}

// resumeIn converts a position in the merged order into the exclusive
// per-stream position of stream id.
func resumeIn(id uint64, p eventPos) *store.Position {
	switch {
	case id < p.StreamID: // its events at p.TS come before p: resume after p.TS
		return &store.Position{Timestamp: p.TS, Seq: math.MaxUint64}
	case id == p.StreamID:
		return &store.Position{Timestamp: p.TS, Seq: p.Seq}
	default: // its events at p.TS come after p: resume at p.TS
		if p.TS == math.MinInt64 {
			return nil
		}
		return &store.Position{Timestamp: p.TS - 1, Seq: math.MaxUint64}
	}
}
