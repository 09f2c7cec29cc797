package filterpattern

import "strings"

// parseTerms parses an unstructured pattern: whitespace-separated terms,
// each optionally prefixed by '?' (any-of) or '-' (exclusion), each a bare
// word, a "quoted phrase" or a %regex%.
func (p *parser) parseTerms() (matcher, error) {
	m := &termsMatcher{}
	for p.skipSpace(); !p.eof(); p.skipSpace() {
		list := &m.required
		switch p.peek() {
		case '?':
			list = &m.optional
		case '-':
			list = &m.excluded
		}
		if list != &m.required {
			prefix := p.pos
			p.pos++
			if p.eof() || isSpace(p.peek()) {
				return nil, p.errorf(prefix, "expected a term after '%c' at column %d", p.src[prefix])
			}
		}
		t, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		*list = append(*list, t)
	}
	// AWS: "If you combine '?' with other filter patterns, all question
	// mark terms will be ignored."
	if len(m.required) > 0 || len(m.excluded) > 0 {
		m.optional = nil
	}
	return m, nil
}

func (p *parser) parseTerm() (term, error) {
	start := p.pos
	var t term
	switch p.peek() {
	case '"':
		segs, err := p.scanQuoted()
		if err != nil {
			return t, err
		}
		// '*' has no wildcard meaning in a term; an escaped one is the same star.
		t.lit = strings.Join(segs, "*")
		// AWS documents `" "` as the way to match every event, which a
		// plain substring test would not do for events without a space.
		t.all = strings.Trim(t.lit, " \t\n\r\v\f") == ""
	case '%':
		re, err := p.parseRegex()
		if err != nil {
			return t, err
		}
		t.re = re
	case '{':
		return t, p.errorf(start, "'{' at column %d can only open a JSON pattern, at the very beginning; quote the term to search for it literally")
	case '[':
		return t, p.errorf(start, "'[' at column %d can only open a space-delimited pattern, at the very beginning; quote the term to search for it literally")
	default:
		for !p.eof() && !isSpace(p.peek()) {
			p.pos++
		}
		t.lit = p.src[start:p.pos]
		return t, nil
	}
	if !p.eof() && !isSpace(p.peek()) {
		return t, p.errorf(p.pos, "unexpected %s after the closing '%c' at column %d; separate terms with a space", p.describe(p.pos), p.src[start])
	}
	return t, nil
}
