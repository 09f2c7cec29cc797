package insights

// The expression grammar of Logs Insights, loosest binding first: or, and,
// not, comparisons (with in, like, =~), arithmetic, unary, primaries,
// function and aggregate calls. The commands that use it are in parse.go.

import (
	"regexp"
	"strconv"
	"strings"
)

// Expressions, loosest binding first.

func (p *parser) expr() (expr, *CompileError) { return p.or() }

func (p *parser) or() (expr, *CompileError) {
	l, err := p.and()
	for err == nil && p.isWord("or") {
		p.next()
		var r expr
		if r, err = p.and(); err == nil {
			l = &orX{l, r}
		}
	}
	return l, err
}

func (p *parser) and() (expr, *CompileError) {
	l, err := p.not()
	for err == nil && p.isWord("and") {
		p.next()
		var r expr
		if r, err = p.not(); err == nil {
			l = &andX{l, r}
		}
	}
	return l, err
}

func (p *parser) not() (expr, *CompileError) {
	if p.isWord("not") {
		p.next()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &notX{x}, nil
	}
	return p.cmp()
}

func (p *parser) cmp() (expr, *CompileError) {
	l, err := p.add()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	negate := false
	if p.isWord("not") {
		p.next()
		negate = true
		t = p.peek()
		if !p.isWord("like") && !p.isWord("in") {
			return nil, p.errAt(t, "expected like or in after not, found %s", describe(t))
		}
	}
	switch {
	case t.kind == tOp && (t.text == "=" || t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">="):
		p.next()
		r, err := p.add()
		if err != nil {
			return nil, err
		}
		op := t.text
		if op == "==" {
			op = "="
		}
		return &cmpX{op: op, l: l, r: r}, nil
	case p.isWord("like") || t.kind == tOp && t.text == "=~":
		p.next()
		pat := p.next()
		lx := &likeX{x: l, not: negate}
		switch {
		case pat.kind == tString && t.kind == tIdent:
			lx.sub = pat.text
		case pat.kind == tRegex:
			re, err := compileRegex(pat.text)
			if err != nil {
				return nil, p.errAt(pat, "%v", err)
			}
			lx.re = re
			if isLiteral(pat.text) {
				lx.lit = []byte(pat.text)
			}
		default:
			return nil, p.errAt(pat, "%s takes a string in quotes or a regular expression between slashes, found %s", t.text, describe(pat))
		}
		return lx, nil
	case p.isWord("in"):
		p.next()
		if err := p.expectOp("["); err != nil {
			return nil, err
		}
		in := &inList{x: l, not: negate}
		for !p.isOp("]") {
			x, err := p.add()
			if err != nil {
				return nil, err
			}
			in.items = append(in.items, x)
			if !p.isOp(",") {
				break
			}
			p.next()
		}
		if err := p.expectOp("]"); err != nil {
			return nil, err
		}
		return in, nil
	}
	return l, nil
}

// isLiteral reports whether a regex matches exactly its own text.
func isLiteral(src string) bool {
	return src != "" && regexp.QuoteMeta(src) == src
}

func (p *parser) add() (expr, *CompileError) {
	l, err := p.mul()
	for err == nil && (p.isOp("+") || p.isOp("-")) {
		op := p.next().text[0]
		var r expr
		if r, err = p.mul(); err == nil {
			l = &arith{op, l, r}
		}
	}
	return l, err
}

func (p *parser) mul() (expr, *CompileError) {
	l, err := p.unary()
	for err == nil && (p.isOp("*") || p.isOp("/") || p.isOp("%")) {
		op := p.next().text[0]
		var r expr
		if r, err = p.unary(); err == nil {
			l = &arith{op, l, r}
		}
	}
	return l, err
}

func (p *parser) unary() (expr, *CompileError) {
	if p.isOp("-") {
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &neg{x}, nil
	}
	l, err := p.primary()
	if err == nil && p.isOp("^") {
		p.next()
		var r expr
		if r, err = p.unary(); err == nil {
			l = &arith{'^', l, r}
		}
	}
	return l, err
}

func (p *parser) primary() (expr, *CompileError) {
	t := p.next()
	switch t.kind {
	case tNumber:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, p.errAt(t, "%q is not a number", t.text)
		}
		return &lit{numText(f, "")}, nil
	case tString:
		return &lit{str(t.text)}, nil
	case tDuration:
		return parseDuration(p, t)
	case tRegex:
		re, err := compileRegex(t.text)
		if err != nil {
			return nil, p.errAt(t, "%v", err)
		}
		return &regexLit{re}, nil
	case tOp:
		if t.text == "(" {
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return x, nil
		}
	case tIdent:
		if p.isOp("(") && !t.quoted {
			return p.call(t)
		}
		if !t.quoted {
			switch strings.ToLower(t.text) {
			case "and", "or", "not", "like", "in", "as", "by", "asc", "desc":
				return nil, p.errAt(t, "expected a value, found the keyword %q", t.text)
			}
		}
		if p.stats != nil && !p.inAgg {
			return nil, p.errAt(t, "field %s must be inside an aggregate function here (for example count(%s)), or go after by", t.text, t.text)
		}
		p.used[t.text] = true
		return &fieldRef{name: t.text}, nil
	}
	return nil, p.errAt(t, "expected a value (a field, a number, a string or a function), found %s", describe(t))
}

// A duration's bounds, checked as floats before the conversion to int64:
// beyond them a product overflowed (a calendar unit could become 0 months
// and bin() divide by it).
const (
	maxDurationMonths = 12 * 100_000
	maxDurationMs     = 100_000 * 365.25 * 24 * 3600e3
)

func parseDuration(p *parser, t token) (expr, *CompileError) {
	i := 0
	for i < len(t.text) && (isDigit(t.text[i]) || t.text[i] == '.') {
		i++
	}
	n, err := strconv.ParseFloat(t.text[:i], 64)
	unit := durationUnits[strings.ToLower(t.text[i:])]
	if err != nil || n <= 0 {
		return nil, p.errAt(t, "%q is not a positive duration", t.text)
	}
	if unit < 0 {
		if n != float64(int64(n)) {
			return nil, p.errAt(t, "a calendar duration (%s) must be a whole number", t.text[i:])
		}
		if n*float64(-unit) > maxDurationMonths {
			return nil, p.errAt(t, "%q is longer than %d years", t.text, maxDurationMonths/12)
		}
		return &durLit{months: int64(n) * -unit, text: t.text}, nil
	}
	if n*float64(unit) > maxDurationMs {
		return nil, p.errAt(t, "%q is longer than %d years", t.text, int64(maxDurationMs/(365.25*24*3600e3)))
	}
	ms := int64(n * float64(unit))
	if ms <= 0 {
		return nil, p.errAt(t, "%q is shorter than a millisecond", t.text)
	}
	return &durLit{ms: ms, text: t.text}, nil
}

func (p *parser) call(name token) (expr, *CompileError) {
	p.next() // (
	fname := strings.ToLower(name.text)
	if fname == "percentile" {
		fname = "pct"
	}
	if isAggregate(fname) {
		if p.stats == nil {
			return nil, p.errAt(name, "%s is an aggregate function: use it in stats", name.text)
		}
		if p.inAgg {
			return nil, p.errAt(name, "an aggregate function cannot be inside another")
		}
		return p.aggCall(name, fname)
	}
	f, ok := functions[fname]
	if !ok {
		return nil, p.errAt(name, "%q is not a function keel's server knows", name.text)
	}
	var args []expr
	for !p.isOp(")") {
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		args = append(args, x)
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	end := p.peek()
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	if len(args) < f.min || f.max >= 0 && len(args) > f.max {
		return nil, newError(p.q, name.start, end.end, "%s takes %s", name.text, arity(f.min, f.max))
	}
	if f.compile != nil {
		x, msg := f.compile(args)
		if msg != "" {
			return nil, newError(p.q, name.start, end.end, "%s: %s", name.text, msg)
		}
		if fname == "bin" && len(args) == 1 {
			p.used["@timestamp"] = true
		}
		return x, nil
	}
	return &callX{name: fname, args: args, fn: f.fn}, nil
}

func arity(lo, hi int) string {
	switch {
	case lo == hi && lo == 1:
		return "1 argument"
	case lo == hi:
		return strconv.Itoa(lo) + " arguments"
	case hi < 0:
		return "at least " + strconv.Itoa(lo) + " arguments"
	}
	return strconv.Itoa(lo) + " to " + strconv.Itoa(hi) + " arguments"
}

func (p *parser) aggCall(name token, fname string) (expr, *CompileError) {
	a := &aggSpec{fn: fname, slot: len(p.stats.aggs)}
	if fname == "count" && p.isOp("*") {
		p.next()
	} else if !p.isOp(")") {
		p.inAgg = true
		x, err := p.expr()
		p.inAgg = false
		if err != nil {
			return nil, err
		}
		a.arg = x
	}
	if fname == "pct" {
		if err := p.expectOp(","); err != nil {
			return nil, err
		}
		n := p.next()
		v, err := strconv.ParseFloat(n.text, 64)
		if n.kind != tNumber || err != nil || v < 0 || v > 100 {
			return nil, p.errAt(n, "pct takes a percentile from 0 to 100, as in pct(latency, 99)")
		}
		a.pct = v
	}
	end := p.peek()
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	if a.arg == nil && fname != "count" {
		return nil, newError(p.q, name.start, end.end, "%s takes a field", name.text)
	}
	p.stats.aggs = append(p.stats.aggs, a)
	return &aggRef{slot: a.slot}, nil
}
