package logserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/keelvm/keel/filterpattern"
)

type startLiveTailInput struct {
	LogGroupIdentifiers   []string `json:"logGroupIdentifiers"`
	LogStreamNames        []string `json:"logStreamNames"`
	LogStreamNamePrefixes []string `json:"logStreamNamePrefixes"`
	LogEventFilterPattern *string  `json:"logEventFilterPattern"`
}

type liveTailResult struct {
	LogStreamName      string `json:"logStreamName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
	Message            string `json:"message"`
	Timestamp          int64  `json:"timestamp"`
	IngestionTime      int64  `json:"ingestionTime"`
}

// prepareLiveTail validates a StartLiveTail request and returns its session.
// Errors here are ordinary JSON errors; once the stream starts, only event
// stream frames go out.
func (s *Server) prepareLiveTail(c *call) (*tailSession, startLiveTailInput, *filterpattern.Pattern, *apiError) {
	var in startLiveTailInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, in, nil, e
	}
	var v violations
	if in.LogGroupIdentifiers == nil {
		v.addNull("logGroupIdentifiers")
	} else if n := len(in.LogGroupIdentifiers); n < 1 || n > 10 {
		v.add(fmt.Sprintf("[%d identifiers]", n), "logGroupIdentifiers", lengthConstraint(n, 1, 10))
	}
	for _, list := range []struct {
		path  string
		items []string
	}{{"logStreamNames", in.LogStreamNames}, {"logStreamNamePrefixes", in.LogStreamNamePrefixes}} {
		if list.items == nil {
			continue
		}
		if n := len(list.items); n < 1 || n > 100 {
			v.add(fmt.Sprintf("[%d names]", n), list.path, lengthConstraint(n, 1, 100))
		}
		for i := range list.items {
			v.checkStreamName(fmt.Sprintf("%s.%d.member", list.path, i+1), &list.items[i], true)
		}
	}
	if e := v.err(); e != nil {
		return nil, in, nil, e
	}
	if in.LogStreamNames != nil && in.LogStreamNamePrefixes != nil {
		return nil, in, nil, errInvalidParameter("logStreamNames and logStreamNamePrefixes are mutually exclusive. Only one can be specified.")
	}
	if (in.LogStreamNames != nil || in.LogStreamNamePrefixes != nil) && len(in.LogGroupIdentifiers) != 1 {
		return nil, in, nil, errInvalidParameter("logStreamNames and logStreamNamePrefixes can only be used with exactly one log group in logGroupIdentifiers.")
	}
	pattern, e := compilePattern("logEventFilterPattern", in.LogEventFilterPattern)
	if e != nil {
		return nil, in, nil, e
	}
	ts := &tailSession{groups: map[string]string{}, prefixes: in.LogStreamNamePrefixes}
	if in.LogStreamNames != nil {
		ts.names = map[string]bool{}
		for _, n := range in.LogStreamNames {
			ts.names[n] = true
		}
	}
	for _, id := range in.LogGroupIdentifiers {
		g := s.groupFromIdentifier(id)
		if e := s.authorize(c, g, ""); e != nil {
			return nil, in, nil, e
		}
		if _, err := s.store.Group(g); err != nil {
			return nil, in, nil, storeError(err)
		}
		ts.groups[g] = id
	}
	return ts, in, pattern, nil
}

// startLiveTail streams a live tail session as an AWS event stream: an
// initial-response, a sessionStart, then a sessionUpdate every second (even
// an empty one, which tells the client the session is alive) until the
// client goes away or the session times out.
func (s *Server) startLiveTail(w http.ResponseWriter, c *call) (int, *apiError) {
	ts, in, pattern, e := s.prepareLiveTail(c)
	if e != nil {
		return 0, e
	}
	if !s.tails.add(ts, s.cfg.MaxLiveTails) {
		return 0, &apiError{Status: http.StatusBadRequest, Code: "LimitExceededException",
			Message: fmt.Sprintf("%d Live Tail sessions are open, the most this server allows at once: end one (a keel logs -logs.tail, an aws logs start-live-tail) and start again.", s.cfg.MaxLiveTails)}
	}
	defer s.tails.remove(ts)

	rc := http.NewResponseController(w)
	// The server's read timeout guards request bodies; a session lasts
	// hours, and the client only reads.
	_ = rc.SetReadDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(http.StatusOK)

	enc := eventstream.NewEncoder()
	send := func(msgType, name string, payload any) error {
		body, err := json.Marshal(payload)
		if err != nil {
			return err
		}
		var h eventstream.Headers
		h.Set(":message-type", eventstream.StringValue(msgType))
		if msgType == "exception" {
			h.Set(":exception-type", eventstream.StringValue(name))
		} else {
			h.Set(":event-type", eventstream.StringValue(name))
		}
		h.Set(":content-type", eventstream.StringValue("application/json"))
		var buf bytes.Buffer
		if err := enc.Encode(&buf, eventstream.Message{Headers: h, Payload: body}); err != nil {
			return err
		}
		_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
		return rc.Flush()
	}

	sessionID := newRequestID()
	start := map[string]any{
		"requestId": w.Header().Get("x-amzn-RequestId"), "sessionId": sessionID,
		"logGroupIdentifiers": in.LogGroupIdentifiers, "logEventFilterPattern": deref(in.LogEventFilterPattern),
	}
	if in.LogStreamNames != nil {
		start["logStreamNames"] = in.LogStreamNames
	}
	if in.LogStreamNamePrefixes != nil {
		start["logStreamNamePrefixes"] = in.LogStreamNamePrefixes
	}
	if send("event", "initial-response", struct{}{}) != nil || send("event", "sessionStart", start) != nil {
		return http.StatusOK, nil
	}
	s.log.Info("live tail session started", "session", sessionID, "groups", strings.Join(in.LogGroupIdentifiers, ","), "key", c.key.Name)

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	timeout := time.NewTimer(s.cfg.LiveTailTimeout)
	defer timeout.Stop()
	for {
		select {
		case <-c.r.Context().Done():
			return http.StatusOK, nil
		case <-s.closing:
			_ = send("exception", "SessionStreamingException", map[string]string{
				"message": fmt.Sprintf("Live tail session %s ended: the log server is shutting down; start a new session once it is back.", sessionID)})
			return http.StatusOK, nil
		case <-timeout.C:
			_ = send("exception", "SessionTimeoutException", map[string]string{
				"message": fmt.Sprintf("Live tail session %s timed out after %v; start a new session to keep tailing.", sessionID, s.cfg.LiveTailTimeout)})
			return http.StatusOK, nil
		case <-tick.C:
			// A session outlives the request that authorized it by up to
			// LiveTailTimeout; a deleted key must be refused at once.
			if s.verifier != nil {
				if _, ok := s.cfg.Keys.Lookup(c.key.ID); !ok {
					_ = send("exception", "SessionStreamingException", map[string]string{
						"message": fmt.Sprintf("Live tail session %s ended: its access key %s was revoked.", sessionID, c.key.ID)})
					return http.StatusOK, nil
				}
			}
			results, sampled := sample(ts, pattern)
			update := map[string]any{
				"sessionMetadata": map[string]bool{"sampled": sampled},
				"sessionResults":  results,
			}
			if err := send("event", "sessionUpdate", update); err != nil {
				return http.StatusOK, nil
			}
		}
	}
}

// sample filters what arrived since the last update and keeps at most
// maxTailResults of it, a uniform sample (reservoir) when there is more,
// in arrival order.
func sample(ts *tailSession, pattern *filterpattern.Pattern) ([]liveTailResult, bool) {
	pending, sampled := ts.take()
	type pick struct {
		i  int
		ev tailEvent
	}
	var keep []pick
	seen := 0
	for i, te := range pending {
		if pattern != nil && !pattern.Match(te.ev.Message) {
			continue
		}
		seen++
		if len(keep) < maxTailResults {
			keep = append(keep, pick{i, te})
		} else if j := rand.IntN(seen); j < maxTailResults {
			keep[j] = pick{i, te}
			sampled = true
		} else {
			sampled = true
		}
	}
	if sampled {
		// Reservoir replacement scrambles the order; restore arrival order.
		slices.SortFunc(keep, func(a, b pick) int { return a.i - b.i })
	}
	out := make([]liveTailResult, len(keep))
	for k, p := range keep {
		out[k] = liveTailResult{
			LogStreamName: p.ev.stream, LogGroupIdentifier: ts.groups[p.ev.group], Message: p.ev.ev.Message,
			Timestamp: p.ev.ev.Timestamp, IngestionTime: p.ev.ev.IngestionTime,
		}
	}
	return out, sampled
}
