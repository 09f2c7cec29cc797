package filterpattern

import (
	"encoding/json"
	"io"
	"strings"
)

// jsonMatcher matches JSON patterns against events that are a JSON object
// and nothing else.
type jsonMatcher struct {
	expr node[any]
}

func (m *jsonMatcher) match(msg string) bool {
	// Most events in a mixed log group are plain text: skip the decoder
	// for anything that cannot be an object.
	i := 0
	for i < len(msg) && isSpace(msg[i]) {
		i++
	}
	if i == len(msg) || msg[i] != '{' {
		return false
	}
	root, ok := decodeObject(msg)
	if !ok {
		return false
	}
	return m.expr.eval(root)
}

// decodeObject parses msg once into a generic tree. Numbers stay
// json.Number so that wildcard and regex comparisons see the digits as
// written and numeric ones can convert them exactly once. Trailing data
// after the object makes the event non-JSON, as in CloudWatch.
func decodeObject(msg string) (any, bool) {
	dec := json.NewDecoder(strings.NewReader(msg))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return obj, true
}
