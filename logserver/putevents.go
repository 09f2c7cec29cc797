package logserver

import (
	"encoding/json"
	"fmt"

	"github.com/keelvm/keel/logserver/store"
)

// PutLogEvents limits (docs/cloudwatch-logs.md).
const (
	maxBatchEvents = 10000
	maxBatchBytes  = 1048576
	eventOverhead  = 26
	maxEventBytes  = 1048576 // message + overhead, since April 2025
	maxSpanMs      = 24 * 3600 * 1000
	maxAgeMs       = 14 * 24 * 3600 * 1000
	maxFutureMs    = 2 * 3600 * 1000
	// maxListedViolations keeps a 10,000-event error readable; the count in
	// the message still covers every violation.
	maxListedViolations = 10
)

type inputLogEvent struct {
	Timestamp *int64  `json:"timestamp"`
	Message   *string `json:"message"`
}

type putLogEventsInput struct {
	LogGroupName  *string          `json:"logGroupName"`
	LogStreamName *string          `json:"logStreamName"`
	LogEvents     *[]inputLogEvent `json:"logEvents"`
	SequenceToken *string          `json:"sequenceToken"`
	Entity        json.RawMessage  `json:"entity"`
}

type rejectedInfo struct {
	TooNewLogEventStartIndex *int `json:"tooNewLogEventStartIndex,omitempty"`
	TooOldLogEventEndIndex   *int `json:"tooOldLogEventEndIndex,omitempty"`
	ExpiredLogEventEndIndex  *int `json:"expiredLogEventEndIndex,omitempty"`
}

type putLogEventsOutput struct {
	NextSequenceToken     string        `json:"nextSequenceToken,omitempty"`
	RejectedLogEventsInfo *rejectedInfo `json:"rejectedLogEventsInfo,omitempty"`
}

func (s *Server) putLogEvents(c *call) (any, *apiError) {
	var in putLogEventsInput
	if !decodePutFast(c.body, &in) {
		in = putLogEventsInput{}
		if e := decodeInput(c.op, c.body, &in); e != nil {
			return nil, e
		}
	}
	if e := validatePut(&in); e != nil {
		return nil, e
	}
	group, stream := *in.LogGroupName, *in.LogStreamName
	if e := s.authorize(c, group, stream); e != nil {
		return nil, e
	}
	g, err := s.store.Group(group)
	if err != nil {
		return nil, storeError(err)
	}
	events := *in.LogEvents
	if e := checkBatch(events); e != nil {
		return nil, e
	}

	// Events outside the accepted window are dropped one by one and
	// reported; the request itself still succeeds, as with AWS.
	now := s.nowMs()
	var info rejectedInfo
	lo, hi := 0, len(events)
	tooOld := countBefore(events, now-maxAgeMs)
	if tooOld > 0 {
		info.TooOldLogEventEndIndex = &tooOld
		lo = tooOld
	}
	if g.RetentionDays > 0 {
		expired := countBefore(events, now-int64(g.RetentionDays)*86400000)
		if expired > 0 {
			info.ExpiredLogEventEndIndex = &expired
			lo = max(lo, expired)
		}
	}
	tooNew := len(events) - countAfter(events, now+maxFutureMs)
	if tooNew < len(events) {
		info.TooNewLogEventStartIndex = &tooNew
		hi = tooNew
	}
	var out putLogEventsOutput
	if info != (rejectedInfo{}) {
		out.RejectedLogEventsInfo = &info
	}
	if lo >= hi {
		// Nothing valid, but the stream must still exist.
		if _, err := s.store.Stream(group, stream); err != nil {
			return nil, storeError(err)
		}
		return out, nil
	}
	valid := events[lo:hi]
	if *valid[len(valid)-1].Timestamp-*valid[0].Timestamp > maxSpanMs {
		return nil, errInvalidParameter("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	}
	batch := make([]store.Event, len(valid))
	for i, ev := range valid {
		batch[i] = store.Event{Timestamp: *ev.Timestamp, Message: *ev.Message}
	}
	_, firstSeq, err := s.store.Append(group, stream, batch)
	if err != nil {
		return nil, storeError(err)
	}
	out.NextSequenceToken = fmt.Sprintf("%056d", firstSeq+uint64(len(batch)))
	return out, nil
}

// eventPath names member of the i-th event in a violation, and only there:
// formatting it for every event cost ingest a tenth of its time.
func eventPath(i int, member string) string {
	return fmt.Sprintf("logEvents.%d.member.%s", i+1, member)
}

// validatePut applies the schema constraints: required members, list length,
// per-event nulls, empty messages and negative timestamps.
func validatePut(in *putLogEventsInput) *apiError {
	var v violations
	v.checkGroupName("logGroupName", in.LogGroupName, true)
	v.checkStreamName("logStreamName", in.LogStreamName, true)
	switch {
	case in.LogEvents == nil:
		v.addNull("logEvents")
	case len(*in.LogEvents) == 0:
		v.add("[]", "logEvents", "Member must have length greater than or equal to 1")
	case len(*in.LogEvents) > maxBatchEvents:
		v.add(fmt.Sprintf("[%d log events]", len(*in.LogEvents)), "logEvents", "Member must have length less than or equal to 10000")
	default:
		for i, ev := range *in.LogEvents {
			if ev.Timestamp == nil {
				v.addNull(eventPath(i, "timestamp"))
			} else if *ev.Timestamp < 0 {
				v.add(*ev.Timestamp, eventPath(i, "timestamp"), "Member must have value greater than or equal to 0")
			}
			if ev.Message == nil {
				v.addNull(eventPath(i, "message"))
			} else if len(*ev.Message) == 0 {
				v.add("", eventPath(i, "message"), "Member must have length greater than or equal to 1")
			}
		}
	}
	if len(v) > maxListedViolations {
		e := v[:maxListedViolations].err()
		e.Message = fmt.Sprintf("%d validation errors detected: %s; (and %d more)",
			len(v), joinViolations(v[:maxListedViolations]), len(v)-maxListedViolations)
		return e
	}
	return v.err()
}

// checkBatch applies the size and order rules to the whole request.
func checkBatch(events []inputLogEvent) *apiError {
	total := 0
	for _, ev := range events {
		// The JSON decoder has already replaced each invalid UTF-8 byte with
		// U+FFFD (3 bytes), which is how the service counts it.
		size := len(*ev.Message) + eventOverhead
		if size > maxEventBytes {
			return errInvalidParameter("Log event too large: %d bytes exceeds limit of %d", size, maxEventBytes)
		}
		total += size
	}
	if total > maxBatchBytes {
		return errInvalidParameter("Upload too large: %d bytes exceeds limit of %d", total, maxBatchBytes)
	}
	for i := 1; i < len(events); i++ {
		if *events[i].Timestamp < *events[i-1].Timestamp {
			return errInvalidParameter("Log events in a single PutLogEvents request must be in chronological order.")
		}
	}
	return nil
}

// countBefore counts the leading events older than cutoff; events are sorted.
func countBefore(events []inputLogEvent, cutoff int64) int {
	n := 0
	for n < len(events) && *events[n].Timestamp < cutoff {
		n++
	}
	return n
}

// countAfter counts the trailing events newer than cutoff.
func countAfter(events []inputLogEvent, cutoff int64) int {
	n := 0
	for n < len(events) && *events[len(events)-1-n].Timestamp > cutoff {
		n++
	}
	return n
}

func joinViolations(v violations) string {
	out := ""
	for i, s := range v {
		if i > 0 {
			out += "; "
		}
		out += s
	}
	return out
}
