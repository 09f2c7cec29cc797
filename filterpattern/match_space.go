package filterpattern

import "strings"

// spaceField is one field of a space-delimited pattern; a nil cond only
// claims a position.
type spaceField struct {
	cond node[string]
}

func (f spaceField) ok(v string) bool { return f.cond == nil || f.cond.eval(v) }

// eval makes a comparison usable as a leaf of a field's condition.
func (c *comparison) eval(v string) bool { return c.field(v) }

// spaceMatcher matches space-delimited patterns. Without an ellipsis the
// fields line up with the message from the left and, as in CloudWatch,
// the last field takes the rest of the message when the message has more
// fields than the pattern (AWS's [w1=ERROR, w2] example relies on this).
// With an ellipsis, prefix lines up from the left, suffix from the right,
// and the ellipsis absorbs any number of fields in between.
type spaceMatcher struct {
	prefix   []spaceField
	suffix   []spaceField
	ellipsis bool
}

func (m *spaceMatcher) match(msg string) bool {
	if !m.ellipsis {
		return m.matchFixed(msg)
	}
	pos := 0
	for _, f := range m.prefix {
		v, _, end, ok := nextField(msg, pos)
		if !ok || !f.ok(v) {
			return false
		}
		pos = end
	}
	k := len(m.suffix)
	if k == 0 {
		return true
	}
	// Keep the last k fields in a ring; a small one lives on the stack.
	var small [8]string
	ring := small[:]
	if k > len(small) {
		ring = make([]string, k)
	}
	n := 0
	for {
		v, _, end, ok := nextField(msg, pos)
		if !ok {
			break
		}
		ring[n%k] = v
		n++
		pos = end
	}
	if n < k {
		return false
	}
	for j, f := range m.suffix {
		if !f.ok(ring[(n-k+j)%k]) {
			return false
		}
	}
	return true
}

func (m *spaceMatcher) matchFixed(msg string) bool {
	pos := 0
	last := len(m.prefix) - 1
	for i, f := range m.prefix {
		v, start, end, ok := nextField(msg, pos)
		if !ok {
			return false
		}
		if i == last && hasField(msg, end) {
			v = strings.TrimRight(msg[start:], " \t\n\r\v\f")
		}
		if !f.ok(v) {
			return false
		}
		pos = end
	}
	return true
}

// hasField reports whether anything but whitespace follows pos.
func hasField(msg string, pos int) bool {
	for pos < len(msg) && isSpace(msg[pos]) {
		pos++
	}
	return pos < len(msg)
}

// nextField returns the first field at or after pos: a run of
// non-whitespace, or the text inside "..." or [...] (brackets may nest),
// which counts as one field however many spaces it holds. A quote or
// bracket that is never closed is an ordinary character. The value is a
// substring of msg; nothing is copied or unescaped.
func nextField(msg string, pos int) (v string, start, end int, ok bool) {
	for pos < len(msg) && isSpace(msg[pos]) {
		pos++
	}
	if pos >= len(msg) {
		return "", pos, pos, false
	}
	switch msg[pos] {
	case '"':
		for j := pos + 1; j < len(msg); j++ {
			if msg[j] == '\\' {
				j++
			} else if msg[j] == '"' {
				return msg[pos+1 : j], pos, j + 1, true
			}
		}
	case '[':
		depth := 0
		for j := pos; j < len(msg); j++ {
			switch msg[j] {
			case '[':
				depth++
			case ']':
				if depth--; depth == 0 {
					return msg[pos+1 : j], pos, j + 1, true
				}
			}
		}
	}
	end = pos
	for end < len(msg) && !isSpace(msg[end]) {
		end++
	}
	return msg[pos:end], pos, end, true
}
