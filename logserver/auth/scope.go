package auth

import (
	"fmt"
	"strings"
)

// DefaultActions are what a scoped key may do when its Scope names none: the
// two calls a log shipper makes. Reading back is left out on purpose, so a key
// handed to a VM cannot read what other writers put in the same group.
var DefaultActions = []string{"CreateLogStream", "PutLogEvents"}

// Scope limits a key to writing into one log group. A nil *Scope is full
// (admin) access.
type Scope struct {
	Group        string `json:"group"`        // the one log group this key may use
	StreamPrefix string `json:"streamPrefix"` // stream names must start with this ("" = any stream in Group)
	// Stream, when set, limits the key to this stream and the streams
	// under it (STREAM/...): an app's key reaches its stream and its boot
	// stream, but not those of an app whose name merely starts alike
	// (alice/hello2 for alice/hello), as a prefix would.
	Stream  string   `json:"stream,omitempty"`
	Actions []string `json:"actions"` // operation names such as "PutLogEvents"; empty means DefaultActions
}

// Allows reports whether the scope permits action on group and stream. Pass
// stream "" for an action on the group as a whole (e.g. DescribeLogStreams);
// such an action is allowed only to a scope without a StreamPrefix, because a
// group-wide answer would reach streams outside the prefix.
//
// Action names compare case-insensitively, and a "logs:" prefix on either side
// is ignored, as IAM does.
func (s *Scope) Allows(action, group, stream string) bool {
	if s == nil {
		return true
	}
	if group != s.Group || !s.allowsAction(action) {
		return false
	}
	if stream == "" {
		return s.StreamPrefix == "" && s.Stream == ""
	}
	if s.Stream != "" {
		return stream == s.Stream || strings.HasPrefix(stream, s.Stream+"/")
	}
	return strings.HasPrefix(stream, s.StreamPrefix)
}

func (s *Scope) allowsAction(action string) bool {
	actions := s.Actions
	if len(actions) == 0 {
		actions = DefaultActions
	}
	action = trimLogsPrefix(action)
	for _, a := range actions {
		if strings.EqualFold(trimLogsPrefix(a), action) {
			return true
		}
	}
	return false
}

func trimLogsPrefix(action string) string {
	if len(action) >= 5 && strings.EqualFold(action[:5], "logs:") {
		return action[5:]
	}
	return action
}

// normalizedScope checks a scope given to Create and returns the copy to
// store: defaults filled in so keys.json shows what the key can really do, and
// no slice shared with the caller.
func normalizedScope(s *Scope) (*Scope, error) {
	if s == nil {
		return nil, nil
	}
	if s.Group == "" {
		return nil, fmt.Errorf("scope names no log group; a scoped key must be limited to one group")
	}
	if strings.ContainsAny(s.Group+s.StreamPrefix+s.Stream, "\x00\r\n") {
		return nil, fmt.Errorf("scope group %q, stream %q or stream prefix %q contains a control character", s.Group, s.Stream, s.StreamPrefix)
	}
	if s.Stream != "" && s.StreamPrefix != "" {
		return nil, fmt.Errorf("scope gives both stream %q and stream prefix %q: give one", s.Stream, s.StreamPrefix)
	}
	out := &Scope{Group: s.Group, StreamPrefix: s.StreamPrefix, Stream: s.Stream}
	actions := s.Actions
	if len(actions) == 0 {
		actions = DefaultActions
	}
	seen := make(map[string]bool, len(actions))
	for _, a := range actions {
		name := trimLogsPrefix(strings.TrimSpace(a))
		if !isActionName(name) {
			return nil, fmt.Errorf("scope action %q is not an operation name such as PutLogEvents", a)
		}
		if key := strings.ToLower(name); !seen[key] {
			seen[key] = true
			out.Actions = append(out.Actions, name)
		}
	}
	return out, nil
}

// isActionName accepts the shape of CloudWatch Logs operation names. Wildcards
// are refused rather than half-supported: Allows compares names exactly.
func isActionName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
