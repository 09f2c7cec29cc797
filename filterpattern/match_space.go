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
	fs := fieldScanner{msg: msg}
	pos := 0
	for _, f := range m.prefix {
		v, _, end, ok := fs.next(pos)
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
		v, _, end, ok := fs.next(pos)
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
	fs := fieldScanner{msg: msg}
	pos := 0
	last := len(m.prefix) - 1
	for i, f := range m.prefix {
		v, start, end, ok := fs.next(pos)
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

// fieldScanner splits one message into fields, in order. It remembers
// which '[' never close so that the message costs linear time: scanning
// ahead for each field's closing ']' would, on a message of unclosed
// brackets such as "[ [ [ ...", rescan the rest of the message once per
// field, quadratic time (over a minute for a 1 MiB event).
type fieldScanner struct {
	msg string
	// unclosed has bit i set when msg[i] is a '[' with no matching ']'.
	// It is computed on the first bracket that fails to close, covering
	// that position and everything after it (later fields only look
	// further on); nil until then, so ordinary messages allocate nothing.
	unclosed []uint64
}

// next returns the first field at or after pos: a run of non-whitespace,
// or the text inside "..." or [...] (brackets may nest), which counts as
// one field however many spaces it holds. A quote or bracket that is
// never closed is an ordinary character. The value is a substring of msg;
// nothing is copied or unescaped.
//
// Work stays linear in the message over a whole scan: a closed field is
// scanned once and consumed; an unclosed quote can happen at most once
// (a later field's opening quote follows a space, ']' or '"', never an
// escaping backslash, so the earlier scan would have closed on it); and
// unclosed brackets are found once, by markUnclosed.
func (fs *fieldScanner) next(pos int) (v string, start, end int, ok bool) {
	msg := fs.msg
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
		if fs.unclosed == nil || fs.unclosed[pos/64]&(1<<(pos%64)) == 0 {
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
			// Fields are read in order, so this happens at most once
			// per message: after it, every unmarked bracket closes.
			fs.markUnclosed(pos)
		}
	}
	end = pos
	for end < len(msg) && !isSpace(msg[end]) {
		end++
	}
	return msg[pos:end], pos, end, true
}

// markUnclosed sets fs.unclosed for the brackets at from and after it.
// Scanning backwards and counting the ']' not yet matched finds every
// '[' without a partner in one pass: a '[' closes exactly when some ']'
// to its right is left over by the brackets in between, which is also
// what the nesting-aware forward scan in next looks for.
func (fs *fieldScanner) markUnclosed(from int) {
	msg := fs.msg
	fs.unclosed = make([]uint64, (len(msg)+63)/64)
	pending := 0 // ']' to the right of i not yet matched
	for i := len(msg) - 1; i >= from; i-- {
		switch msg[i] {
		case ']':
			pending++
		case '[':
			if pending == 0 {
				fs.unclosed[i/64] |= 1 << (i % 64)
			} else {
				pending--
			}
		}
	}
}
