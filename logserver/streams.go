package logserver

import (
	"sort"
	"strings"

	"github.com/keelvm/keel/logserver/store"
)

type streamInput struct {
	LogGroupName  *string `json:"logGroupName"`
	LogStreamName *string `json:"logStreamName"`
}

func (s *Server) createLogStream(c *call) (any, *apiError) {
	var in streamInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	v.checkGroupName("logGroupName", in.LogGroupName, true)
	v.checkStreamName("logStreamName", in.LogStreamName, true)
	if e := v.err(); e != nil {
		return nil, e
	}
	if e := s.authorize(c, *in.LogGroupName, *in.LogStreamName); e != nil {
		return nil, e
	}
	if err := s.store.CreateStream(*in.LogGroupName, *in.LogStreamName); err != nil {
		return nil, storeError(err)
	}
	return nil, nil
}

func (s *Server) deleteLogStream(c *call) (any, *apiError) {
	var in streamInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	v.checkGroupName("logGroupName", in.LogGroupName, true)
	v.checkStreamName("logStreamName", in.LogStreamName, true)
	if e := v.err(); e != nil {
		return nil, e
	}
	if e := s.authorize(c, *in.LogGroupName, *in.LogStreamName); e != nil {
		return nil, e
	}
	if err := s.store.DeleteStream(*in.LogGroupName, *in.LogStreamName); err != nil {
		return nil, storeError(err)
	}
	return nil, nil
}

type describeLogStreamsInput struct {
	LogGroupName        *string `json:"logGroupName"`
	LogGroupIdentifier  *string `json:"logGroupIdentifier"`
	LogStreamNamePrefix *string `json:"logStreamNamePrefix"`
	OrderBy             *string `json:"orderBy"`
	Descending          *bool   `json:"descending"`
	NextToken           *string `json:"nextToken"`
	Limit               *int64  `json:"limit"`
}

type logStreamOut struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp int64  `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  int64  `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   int64  `json:"lastIngestionTime,omitempty"`
	Arn                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"`
}

type describeLogStreamsOutput struct {
	LogStreams []logStreamOut `json:"logStreams"`
	NextToken  string         `json:"nextToken,omitempty"`
}

// resolveGroup applies the logGroupName / logGroupIdentifier rule shared by
// several operations: exactly one of the two.
func (s *Server) resolveGroup(v *violations, name, ident *string) string {
	switch {
	case name != nil && ident != nil:
		return ""
	case ident != nil:
		g := s.groupFromIdentifier(*ident)
		v.checkGroupName("logGroupIdentifier", &g, true)
		return g
	default:
		v.checkGroupName("logGroupName", name, false)
		return deref(name)
	}
}

func (s *Server) describeLogStreams(c *call) (any, *apiError) {
	var in describeLogStreamsInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	group := s.resolveGroup(&v, in.LogGroupName, in.LogGroupIdentifier)
	v.checkPrefix("logStreamNamePrefix", in.LogStreamNamePrefix, false)
	v.checkLimit("limit", in.Limit, 50)
	v.checkToken("nextToken", in.NextToken)
	orderBy := "LogStreamName"
	if in.OrderBy != nil {
		orderBy = *in.OrderBy
		if orderBy != "LogStreamName" && orderBy != "LastEventTime" {
			v.add(orderBy, "orderBy", "Member must satisfy enum value set: [LogStreamName, LastEventTime]")
		}
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	if e := groupChoice(in.LogGroupName, in.LogGroupIdentifier); e != nil {
		return nil, e
	}
	if orderBy == "LastEventTime" && in.LogStreamNamePrefix != nil {
		return nil, errInvalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	if e := s.authorize(c, group, ""); e != nil {
		return nil, e
	}
	streams, err := s.store.Streams(group)
	if err != nil {
		return nil, storeError(err)
	}
	prefix := deref(in.LogStreamNamePrefix)
	desc := deref(in.Descending)
	kept := streams[:0]
	for _, st := range streams {
		if strings.HasPrefix(st.Name, prefix) {
			kept = append(kept, st)
		}
	}
	streams = kept
	less := streamOrder(orderBy, desc)
	sort.SliceStable(streams, func(i, j int) bool { return less(streams[i], streams[j]) })

	scope := "streams|" + group + "|" + prefix + "|" + orderBy + "|" + boolStr(desc)
	start := 0
	if in.NextToken != nil {
		last, ok := s.tokens.openStreamCursor(scope, *in.NextToken)
		if !ok {
			return nil, errInvalidParameter(msgBadToken)
		}
		start = sort.Search(len(streams), func(i int) bool { return less(last, streams[i]) })
	}
	limit := limitOr(in.Limit, 50)
	out := describeLogStreamsOutput{LogStreams: []logStreamOut{}}
	for i := start; i < len(streams); i++ {
		if len(out.LogStreams) == limit {
			out.NextToken = s.tokens.sealStreamCursor(scope, streams[i-1])
			break
		}
		out.LogStreams = append(out.LogStreams, s.streamOut(group, streams[i]))
	}
	return out, nil
}

func groupChoice(name, ident *string) *apiError {
	if name != nil && ident != nil {
		return errInvalidParameter("LogGroupName and LogGroupIdentifier are mutually exclusive. Only one can be specified.")
	}
	if name == nil && ident == nil {
		return errInvalidParameter("Either LogGroupName or LogGroupIdentifier must be specified.")
	}
	return nil
}

// streamOrder returns the strict order DescribeLogStreams pages through; ties
// on LastEventTime are broken by name so that a cursor is a unique position.
func streamOrder(orderBy string, desc bool) func(a, b store.Stream) bool {
	if orderBy == "LastEventTime" {
		return func(a, b store.Stream) bool {
			if desc {
				a, b = b, a
			}
			if a.LastEventTimestamp != b.LastEventTimestamp {
				return a.LastEventTimestamp < b.LastEventTimestamp
			}
			return a.Name < b.Name
		}
	}
	return func(a, b store.Stream) bool {
		if desc {
			return b.Name < a.Name
		}
		return a.Name < b.Name
	}
}

func (s *Server) streamOut(group string, st store.Stream) logStreamOut {
	return logStreamOut{
		LogStreamName: st.Name, CreationTime: st.CreationTime,
		FirstEventTimestamp: st.FirstEventTimestamp, LastEventTimestamp: st.LastEventTimestamp,
		LastIngestionTime: st.LastIngestionTime,
		Arn:               s.groupARN(group) + ":log-stream:" + st.Name,
		// The service reports 0 for streams since 2019; bytes are
		// counted on the group.
		StoredBytes: 0,
	}
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
