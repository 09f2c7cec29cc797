package filterpattern

import "strings"

// maxDepth bounds parenthesis nesting. Real patterns nest a few levels;
// the bound keeps the recursive-descent parser's stack small whatever the
// input.
const maxDepth = 100

// parser is the state shared by the three pattern grammars.
type parser struct {
	scanner
	depth     int    // open parentheses
	regexes   int    // %...% seen so far, for AWS's quota
	wildcards int    // JSON wildcard selectors seen so far, for AWS's quota
	prev      string // the last structural token consumed, for messages
}

// parse picks the grammar from the first non-space character, the way
// CloudWatch does: '{' starts a JSON pattern, '[' a space-delimited one,
// anything else is a list of terms.
func parse(src string) (matcher, error) {
	p := &parser{scanner: scanner{src: src}}
	p.skipSpace()
	switch {
	case p.eof():
		return nil, nil
	case p.peek() == '{':
		return p.parseJSON()
	case p.peek() == '[':
		return p.parseSpace()
	}
	return p.parseTerms()
}

// expectEnd rejects anything after a complete JSON or space-delimited
// pattern.
func (p *parser) expectEnd(what string) error {
	p.skipSpace()
	if !p.eof() {
		return p.errorf(p.pos, "unexpected %s after the end of the %s pattern at column %d", p.describe(p.pos), what)
	}
	return nil
}

// parseOr parses operands joined by && and ||, with parentheses, where
// && binds tighter than || (AWS: "() > && > ||"). leaf parses one
// comparison.
func parseOr[T any](p *parser, leaf func() (node[T], error)) (node[T], error) {
	var alts orNode[T]
	for {
		n, err := parseAnd(p, leaf)
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
		p.skipSpace()
		if !p.hasPrefix("||") {
			break
		}
		p.pos += 2
		p.prev = "'||'"
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return alts, nil
}

func parseAnd[T any](p *parser, leaf func() (node[T], error)) (node[T], error) {
	var all andNode[T]
	for {
		n, err := parseUnary(p, leaf)
		if err != nil {
			return nil, err
		}
		all = append(all, n)
		p.skipSpace()
		if !p.hasPrefix("&&") {
			break
		}
		p.pos += 2
		p.prev = "'&&'"
	}
	if len(all) == 1 {
		return all[0], nil
	}
	return all, nil
}

func parseUnary[T any](p *parser, leaf func() (node[T], error)) (node[T], error) {
	p.skipSpace()
	if p.peek() != '(' {
		return leaf()
	}
	open := p.pos
	if p.depth == maxDepth {
		return nil, p.errorf(open, "parentheses nested more than %d deep at column %d", maxDepth)
	}
	p.depth++
	p.pos++
	p.prev = "'('"
	n, err := parseOr(p, leaf)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.peek() != ')' {
		return nil, p.errorf(p.pos, "missing ')' for the '(' at column %d, found %s at column %d", p.col(open), p.describe(p.pos))
	}
	p.pos++
	p.depth--
	return n, nil
}

// parseOperator reads a comparison operator. It scans the whole run of
// operator characters first so that typos such as '=>' or '==' are
// reported as one unknown operator rather than as a stray character.
func (p *parser) parseOperator(after string) (op, error) {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.src) && strings.IndexByte("=!<>", p.src[p.pos]) >= 0 {
		p.pos++
	}
	switch tok := p.src[start:p.pos]; tok {
	case "=":
		return opEq, nil
	case "!=":
		return opNe, nil
	case "<":
		return opLt, nil
	case "<=":
		return opLe, nil
	case ">":
		return opGt, nil
	case ">=":
		return opGe, nil
	case "":
		if c := p.peek(); c == '&' || c == '|' {
			return 0, p.errorf(start, "unknown operator %s at column %d", p.describe(start))
		}
		return 0, p.errorf(start, "expected a comparison operator (=, !=, <, <=, >, >=%s), found %s at column %d", after, p.describe(start))
	default:
		return 0, p.errorf(start, "unknown operator '%s' at column %d", tok)
	}
}

// parseValue reads the right-hand side of a comparison and classifies it
// (see valueKind). Ordering operators require a number.
func (p *parser) parseValue(o op) (comparison, error) {
	p.skipSpace()
	start := p.pos
	c := comparison{op: o}
	switch p.peek() {
	case '"':
		segs, err := p.scanQuoted()
		if err != nil {
			return c, err
		}
		c.setText(segs)
	case '%':
		re, err := p.parseRegex()
		if err != nil {
			return c, err
		}
		c.kind, c.re = kindRegex, re
	default:
		tok := p.scanBare()
		if tok == "" {
			return c, p.errorf(start, "expected a value after '%s', found %s at column %d", o, p.describe(start))
		}
		if f, ok := parseNumber(tok); ok {
			c.kind, c.num = kindNumber, f
		} else {
			c.setText(strings.Split(tok, "*"))
		}
	}
	if o.ordered() && c.kind != kindNumber {
		return c, p.errorf(start, "operator '%s' needs a number, found '%s' at column %d", o, clip(p.src[start:p.pos]))
	}
	return c, nil
}

// clip shortens s for quoting in a message.
func clip(s string) string {
	if len(s) > 24 {
		return s[:21] + "..."
	}
	return s
}

// unexpected reports the token at off where a pattern should have ended or
// continued with a connective; the hint covers the usual mistake of
// writing conditions side by side or spelling && and || as words.
func (p *parser) unexpected(off int) error {
	switch w := p.describe(off); strings.ToUpper(w) {
	case "'$'", "'AND'", "'OR'":
		return p.errorf(off, "unexpected %s at column %d; join conditions with && or ||", w)
	default:
		return p.errorf(off, "unexpected %s at column %d", w)
	}
}

// setText classifies text split at its wildcards.
func (c *comparison) setText(segs []string) {
	switch {
	case len(segs) == 1:
		c.kind, c.str = kindString, segs[0]
	case onlyStars(segs):
		c.kind = kindAny
	default:
		c.kind, c.glob = kindGlob, newGlob(segs)
	}
}
