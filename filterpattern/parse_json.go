package filterpattern

import "strings"

// parseJSON parses { expression } where the expression combines
// conditions on property selectors with &&, || and parentheses.
func (p *parser) parseJSON() (matcher, error) {
	open := p.pos
	p.pos++
	p.prev = "'{'"
	expr, err := parseOr(p, p.parseJSONCond)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	switch {
	case p.eof():
		return nil, p.errorf(p.pos, "missing '}' for the '{' at column %d: pattern ends at column %d", p.col(open))
	case p.peek() != '}':
		return nil, p.unexpected(p.pos)
	}
	p.pos++
	if err := p.expectEnd("JSON"); err != nil {
		return nil, err
	}
	return &jsonMatcher{expr: expr}, nil
}

type condKind uint8

const (
	condCompare   condKind = iota // selector op value
	condNull                      // IS NULL
	condTrue                      // IS TRUE
	condFalse                     // IS FALSE
	condNotExists                 // NOT EXISTS
)

// jsonCond is one condition of a JSON pattern.
type jsonCond struct {
	sel  selector
	kind condKind
	cmp  comparison
}

func (c *jsonCond) eval(root any) bool {
	if c.kind == condNotExists {
		return !c.sel.any(root, anyValue{})
	}
	return c.sel.any(root, c)
}

// holds tests one selected value. Objects and arrays satisfy nothing but
// '= *': AWS says a selector that points to an array or object does not
// match.
func (c *jsonCond) holds(v any) bool {
	switch c.kind {
	case condNull:
		return v == nil
	case condTrue:
		b, ok := v.(bool)
		return ok && b
	case condFalse:
		b, ok := v.(bool)
		return ok && !b
	}
	return c.cmp.jsonValue(v)
}

// jsonKeywords are the words that may follow a selector; a lower-case
// spelling earns a specific hint because keywords are case-sensitive.
var jsonKeywords = map[string]bool{"IS": true, "NOT": true, "EXISTS": true}

func (p *parser) parseJSONCond() (node[any], error) {
	p.skipSpace()
	if p.peek() != '$' {
		return nil, p.errorf(p.pos, "expected a selector like $.field after %s, found %s at column %d", p.prev, p.describe(p.pos))
	}
	sel, err := p.parseSelector()
	if err != nil {
		return nil, err
	}
	c := &jsonCond{sel: sel}
	p.skipSpace()
	if !isLetter(p.peek()) {
		o, err := p.parseOperator(", IS or NOT EXISTS")
		if err != nil {
			return nil, err
		}
		if c.cmp, err = p.parseValue(o); err != nil {
			return nil, err
		}
		return c, nil
	}
	kw := p.pos
	switch w := p.scanWord(); w {
	case "IS":
		p.skipSpace()
		at := p.pos
		switch w2 := p.scanWord(); w2 {
		case "NULL":
			c.kind = condNull
		case "TRUE":
			c.kind = condTrue
		case "FALSE":
			c.kind = condFalse
		case "NOT":
			return nil, p.errorf(kw, "IS NOT is not supported (column %d); use != or NOT EXISTS")
		default:
			return nil, p.errorf(at, "expected NULL, TRUE or FALSE after IS, found %s at column %d", p.describe(at))
		}
	case "NOT":
		p.skipSpace()
		at := p.pos
		if p.scanWord() != "EXISTS" {
			return nil, p.errorf(at, "expected EXISTS after NOT, found %s at column %d", p.describe(at))
		}
		c.kind = condNotExists
	case "EXISTS":
		return nil, p.errorf(kw, "EXISTS is not supported (column %d); use '= *' to test that a field exists")
	default:
		if jsonKeywords[strings.ToUpper(w)] {
			return nil, p.errorf(kw, "keywords are case-sensitive: write %s, not '%s' (column %d)", strings.ToUpper(w), w)
		}
		return nil, p.errorf(kw, "expected a comparison operator (=, !=, <, <=, >, >=), IS or NOT EXISTS after the selector, found %s at column %d", p.describe(kw))
	}
	return c, nil
}
