package logserver

import (
	"math"

	"github.com/keelvm/keel/logserver/store"
)

// maxResponseBytes bounds the events of one read page, as the service does.
const maxResponseBytes = 1048576

type getLogEventsInput struct {
	LogGroupName       *string `json:"logGroupName"`
	LogGroupIdentifier *string `json:"logGroupIdentifier"`
	LogStreamName      *string `json:"logStreamName"`
	StartTime          *int64  `json:"startTime"`
	EndTime            *int64  `json:"endTime"`
	NextToken          *string `json:"nextToken"`
	Limit              *int64  `json:"limit"`
	StartFromHead      *bool   `json:"startFromHead"`
	Unmask             *bool   `json:"unmask"`
}

type outputLogEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

type getLogEventsOutput struct {
	Events            []outputLogEvent `json:"events"`
	NextForwardToken  string           `json:"nextForwardToken"`
	NextBackwardToken string           `json:"nextBackwardToken"`
}

// posBegin is the position before every event.
var posBegin = eventPos{TS: math.MinInt64}

func (s *Server) getLogEvents(c *call) (any, *apiError) {
	var in getLogEventsInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	group := s.resolveGroup(&v, in.LogGroupName, in.LogGroupIdentifier)
	v.checkStreamName("logStreamName", in.LogStreamName, true)
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
	stream := *in.LogStreamName
	if e := s.authorize(c, group, stream); e != nil {
		return nil, e
	}
	g, err := s.store.Group(group)
	if err != nil {
		return nil, storeError(err)
	}
	st, err := s.store.Stream(group, stream)
	if err != nil {
		return nil, storeError(err)
	}
	scope := "get|" + group + "|" + stream
	dir := byte('b')
	if deref(in.StartFromHead) {
		dir = 'f'
	}
	var after *store.Position
	var from eventPos
	if in.NextToken != nil {
		var ok bool
		dir, from, ok = s.tokens.openEvents(scope, *in.NextToken)
		if !ok || from.StreamID != st.ID {
			return nil, errInvalidParameter(msgBadToken)
		}
		after = &store.Position{Timestamp: from.TS, Seq: from.Seq}
	}
	opts := store.ReadOptions{
		Range:        store.Range{Start: deref(in.StartTime), End: deref(in.EndTime)},
		Backward:     dir == 'b',
		After:        after,
		Limit:        limitOr(in.Limit, 10000),
		MaxBytes:     maxResponseBytes,
		MinTimestamp: s.retentionCutoff(g),
	}
	events, err := s.store.Read(group, stream, opts)
	if err != nil {
		return nil, storeError(err)
	}
	out := getLogEventsOutput{Events: make([]outputLogEvent, len(events))}
	for i, ev := range events {
		out.Events[i] = outputLogEvent{Timestamp: ev.Timestamp, Message: ev.Message, IngestionTime: ev.IngestionTime}
	}
	pos := func(ev store.StoredEvent) eventPos { return eventPos{TS: ev.Timestamp, StreamID: st.ID, Seq: ev.Seq} }
	switch {
	case len(events) > 0:
		out.NextForwardToken = s.tokens.sealEvents('f', scope, pos(events[len(events)-1]))
		out.NextBackwardToken = s.tokens.sealEvents('b', scope, pos(events[0]))
	case in.NextToken == nil:
		// An empty range: going forward from here means from the start.
		begin := posBegin
		begin.StreamID = st.ID
		out.NextForwardToken = s.tokens.sealEvents('f', scope, begin)
		out.NextBackwardToken = s.tokens.sealEvents('b', scope, begin)
	case dir == 'f':
		// At the end the client's token comes back unchanged, which is how
		// paginators know to stop.
		out.NextForwardToken = *in.NextToken
		out.NextBackwardToken = s.tokens.sealEvents('b', scope, justAfter(from))
	default:
		out.NextBackwardToken = *in.NextToken
		out.NextForwardToken = s.tokens.sealEvents('f', scope, justBefore(from))
	}
	return out, nil
}

// justAfter is the smallest position greater than p, so that "before it"
// includes p itself.
func justAfter(p eventPos) eventPos {
	if p.Seq == math.MaxUint64 {
		if p.TS == math.MaxInt64 {
			return p
		}
		return eventPos{TS: p.TS + 1, StreamID: p.StreamID}
	}
	p.Seq++
	return p
}

// justBefore is the largest position smaller than p.
func justBefore(p eventPos) eventPos {
	if p.Seq == 0 {
		if p.TS == math.MinInt64 {
			return p
		}
		return eventPos{TS: p.TS - 1, StreamID: p.StreamID, Seq: math.MaxUint64}
	}
	p.Seq--
	return p
}

// retentionCutoff is the oldest timestamp still visible in g.
func (s *Server) retentionCutoff(g store.Group) int64 {
	if g.RetentionDays <= 0 {
		return 0
	}
	return s.nowMs() - int64(g.RetentionDays)*86400000
}
