package filterpattern

import "strings"

const (
	// AWS quotas: "You can only use up to one wildcard selector in a
	// property selector, and up to three wildcard selectors in a filter
	// pattern with compound expressions."
	maxWildcardsPerSelector = 1
	maxWildcardsPerPattern  = 3

	// maxIndexDigits keeps array indexes within int range on every platform.
	maxIndexDigits = 9
)

type stepKind uint8

const (
	stepKey   stepKind = iota // .name or ['name']
	stepIndex                 // [3]
	stepWild                  // .* or [*]: every member of an object or element of an array
)

type step struct {
	kind  stepKind
	key   string
	index int
}

// selector is a compiled property selector such as $.users[0].email.
type selector []step

// valueTest is what a selector hands its selected values to.
type valueTest interface {
	holds(v any) bool
}

// anyValue accepts every value; a selector "exists" when it selects one.
type anyValue struct{}

func (anyValue) holds(any) bool { return true }

// any reports whether some value selected from v passes t. Wildcards make
// a selector select several values, and the comparison succeeds when any
// of them passes (so { $.arrayKey[*] = "value" } asks "does some element
// equal value?"). A missing key, an index past the end, or a step into a
// value of the wrong type selects nothing.
func (sel selector) any(v any, t valueTest) bool {
	for i, st := range sel {
		switch st.kind {
		case stepKey:
			m, ok := v.(map[string]any)
			if !ok {
				return false
			}
			if v, ok = m[st.key]; !ok {
				return false
			}
		case stepIndex:
			a, ok := v.([]any)
			if !ok || st.index >= len(a) {
				return false
			}
			v = a[st.index]
		case stepWild:
			rest := sel[i+1:]
			switch x := v.(type) {
			case map[string]any:
				for _, e := range x {
					if rest.any(e, t) {
						return true
					}
				}
			case []any:
				for _, e := range x {
					if rest.any(e, t) {
						return true
					}
				}
			}
			return false
		}
	}
	return t.holds(v)
}

// isKeyByte reports the characters of a property name written after '.':
// AWS documents letters, digits, '-' and '_'; '@' (as in @timestamp) and
// non-ASCII letters are accepted too. Anything else needs the bracket
// notation $.['name'].
func isKeyByte(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '_' || c == '-' || c == '@' || c >= 0x80
}

// parseSelector reads $ followed by at least one step.
func (p *parser) parseSelector() (selector, error) {
	p.pos++ // '$'
	var sel selector
	wild := 0
	addWild := func(off int) error {
		wild++
		p.wildcards++
		if wild > maxWildcardsPerSelector {
			return p.errorf(off, "at most one wildcard per property selector (second at column %d)")
		}
		if p.wildcards > maxWildcardsPerPattern {
			return p.errorf(off, "at most %d wildcard selectors per pattern (fourth at column %d)", maxWildcardsPerPattern)
		}
		sel = append(sel, step{kind: stepWild})
		return nil
	}
	for {
		switch p.peek() {
		case '.':
			p.pos++
			switch c := p.peek(); {
			case c == '*':
				if err := addWild(p.pos); err != nil {
					return nil, err
				}
				p.pos++
			case c == '[':
				// $.['cluster.name']: the bracket step follows the dot.
			case isKeyByte(c):
				start := p.pos
				for !p.eof() && isKeyByte(p.peek()) {
					p.pos++
				}
				sel = append(sel, step{kind: stepKey, key: p.src[start:p.pos]})
			default:
				return nil, p.errorf(p.pos, "expected a property name after '.', found %s at column %d", p.describe(p.pos))
			}
		case '[':
			st, err := p.parseBracket(addWild)
			if err != nil {
				return nil, err
			}
			if st.kind != stepWild {
				sel = append(sel, st)
			}
		default:
			if len(sel) == 0 {
				return nil, p.errorf(p.pos, "expected '.' or '[' after '$', found %s at column %d", p.describe(p.pos))
			}
			return sel, nil
		}
	}
}

// parseBracket reads [3], [*], ['name'] or ["name"]. A wildcard is
// appended by addWild itself, so the caller ignores the returned step.
func (p *parser) parseBracket(addWild func(int) error) (step, error) {
	open := p.pos
	p.pos++
	var st step
	switch c := p.peek(); {
	case c == '*':
		if err := addWild(p.pos); err != nil {
			return st, err
		}
		st.kind = stepWild
		p.pos++
	case c == '\'' || c == '"':
		key, err := p.scanBracketKey(c)
		if err != nil {
			return st, err
		}
		st = step{kind: stepKey, key: key}
	case isDigit(c):
		start := p.pos
		for !p.eof() && isDigit(p.peek()) {
			p.pos++
		}
		if p.pos-start > maxIndexDigits {
			return st, p.errorf(start, "array index too large at column %d")
		}
		n := 0
		for _, d := range p.src[start:p.pos] {
			n = n*10 + int(d-'0')
		}
		st = step{kind: stepIndex, index: n}
	default:
		return st, p.errorf(p.pos, "expected an array index, '*' or a quoted property name after '[', found %s at column %d", p.describe(p.pos))
	}
	if p.peek() != ']' {
		return st, p.errorf(p.pos, "missing ']' for the '[' at column %d, found %s at column %d", p.col(open), p.describe(p.pos))
	}
	p.pos++
	return st, nil
}

// scanBracketKey reads a quoted property name; a backslash takes the next
// character literally.
func (p *parser) scanBracketKey(quote byte) (string, error) {
	open := p.pos
	var b strings.Builder
	for i := open + 1; i < len(p.src); i++ {
		c := p.src[i]
		switch {
		case c == quote:
			p.pos = i + 1
			return b.String(), nil
		case c == '\\' && i+1 < len(p.src):
			i++
			b.WriteByte(p.src[i])
		default:
			b.WriteByte(c)
		}
	}
	return "", p.errorf(open, "unterminated string starting at column %d")
}
