package insights

import (
	"regexp"
	"strconv"
	"strings"
)

// Query is a compiled Logs Insights query.
type Query struct {
	Text string
	cmds []command
	// limit is the query's own final limit (the last limit command after
	// the last stats or sort), 0 when it gives none.
	limit int
	// fieldsUsed are the fields the query names: only these are
	// extracted from JSON messages.
	fieldsUsed map[string]string
	// aggregate: the output rows come from stats (no @ptr).
	aggregate bool
}

type parser struct {
	q    string
	toks []token
	pos  int
	// stats compiles aggregate calls into this command's slots; nil
	// outside stats, where an aggregate is an error.
	stats *statsCmd
	inAgg bool
	used  map[string]bool
}

// Parse compiles a query. A query the grammar refuses gives a *CompileError
// locating the problem.
func Parse(q string) (*Query, error) {
	toks, cerr := lex(q)
	if cerr != nil {
		return nil, cerr
	}
	p := &parser{q: q, toks: toks, used: map[string]bool{}}
	query, cerr := p.query()
	if cerr != nil {
		return nil, cerr
	}
	return query, nil
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) isOp(s string) bool {
	t := p.peek()
	return t.kind == tOp && t.text == s
}

func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tIdent && !t.quoted && strings.EqualFold(t.text, w)
}

func (p *parser) errAt(t token, format string, args ...any) *CompileError {
	if t.kind == tEOF {
		return newError(p.q, max(0, len(p.q)-1), len(p.q), "%s, but the query ends here", strings.TrimSuffix(fmtMsg(format, args...), "."))
	}
	return newError(p.q, t.start, t.end, format, args...)
}

func fmtMsg(format string, args ...any) string {
	return newError("", 0, 0, format, args...).Message
}

func (p *parser) expectOp(s string) *CompileError {
	if !p.isOp(s) {
		t := p.peek()
		return p.errAt(t, "expected %q here, found %s", s, describe(t))
	}
	p.next()
	return nil
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "the end of the query"
	case tString:
		return "a string"
	case tRegex:
		return "a regular expression"
	}
	return strconv.Quote(t.text)
}

var commandNames = "fields, display, filter, stats, sort, limit, parse, dedup, unmask"

func (p *parser) query() (*Query, *CompileError) {
	query := &Query{Text: p.q}
	sawStats := false
	for {
		if p.peek().kind == tEOF {
			if len(query.cmds) == 0 {
				return nil, newError(p.q, 0, len(p.q), "the query is empty: give at least one command (%s)", commandNames)
			}
			break
		}
		t := p.next()
		if t.kind != tIdent || t.quoted {
			return nil, p.errAt(t, "expected a command (%s), found %s", commandNames, describe(t))
		}
		var c command
		var err *CompileError
		switch strings.ToLower(t.text) {
		case "fields":
			c, err = p.fields(false)
		case "display":
			c, err = p.fields(true)
		case "filter":
			var x expr
			x, err = p.expr()
			c = &filterCmd{cond: x}
		case "stats":
			c, err = p.statsCmd()
			sawStats = true
			query.limit = 0
		case "sort":
			c, err = p.sortCmd()
			query.limit = 0
		case "limit":
			n := p.next()
			v, perr := strconv.Atoi(n.text)
			if n.kind != tNumber || perr != nil || v < 1 || v > MaxRows {
				return nil, p.errAt(n, "limit takes a whole number from 1 to %d", MaxRows)
			}
			c = &limitCmd{n: v}
			query.limit = v
		case "parse":
			c, err = p.parseCmd()
		case "dedup":
			var items []named
			items, err = p.namedList(false)
			c = &dedupCmd{keys: items}
		case "unmask":
			// Masking is a data protection policy of the service, which
			// keel's server has none of: unmask changes nothing.
			for !p.isOp("|") && p.peek().kind != tEOF {
				p.next()
			}
			c = &unmaskCmd{}
		default:
			return nil, p.errAt(t, "%q is not a command keel's server knows; commands are %s", t.text, commandNames)
		}
		if err != nil {
			return nil, err
		}
		query.cmds = append(query.cmds, c)
		if p.peek().kind == tEOF {
			break
		}
		if err := p.expectOp("|"); err != nil {
			return nil, err
		}
		if p.peek().kind == tEOF {
			return nil, p.errAt(p.peek(), "expected a command after |")
		}
	}
	query.aggregate = sawStats
	query.fieldsUsed = map[string]string{}
	for n := range p.used {
		query.fieldsUsed[n] = n
	}
	return query, nil
}

func (p *parser) fields(display bool) (command, *CompileError) {
	items, err := p.namedList(true)
	if err != nil {
		return nil, err
	}
	return &fieldsCmd{items: items, display: display}, nil
}

// namedList parses `expr [as name], ...`.
func (p *parser) namedList(alias bool) ([]named, *CompileError) {
	var out []named
	for {
		start := p.peek()
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		name := p.q[start.start:p.toks[p.pos-1].end]
		if f, ok := x.(*fieldRef); ok {
			name = f.name
		}
		if p.isWord("as") {
			if !alias {
				return nil, p.errAt(p.peek(), "this command takes no alias")
			}
			p.next()
			n := p.next()
			if n.kind != tIdent {
				return nil, p.errAt(n, "expected a name after as, found %s", describe(n))
			}
			name = n.text
		}
		out = append(out, named{name: name, x: x})
		if !p.isOp(",") {
			return out, nil
		}
		p.next()
	}
}

func (p *parser) statsCmd() (command, *CompileError) {
	st := &statsCmd{}
	p.stats = st
	defer func() { p.stats = nil }()
	for {
		start := p.peek()
		nAggs := len(st.aggs)
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		if len(st.aggs) == nAggs {
			return nil, newError(p.q, start.start, p.toks[p.pos-1].end, "stats needs an aggregate function here (count, sum, avg, min, max, pct, ...)")
		}
		name := p.q[start.start:p.toks[p.pos-1].end]
		if p.isWord("as") {
			p.next()
			n := p.next()
			if n.kind != tIdent {
				return nil, p.errAt(n, "expected a name after as, found %s", describe(n))
			}
			name = n.text
		}
		st.outs = append(st.outs, named{name: name, x: x})
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	p.stats = nil
	if p.isWord("by") {
		p.next()
		items, err := p.namedList(true)
		if err != nil {
			return nil, err
		}
		st.by = items
	}
	return st, nil
}

func (p *parser) sortCmd() (command, *CompileError) {
	sc := &sortCmd{}
	for {
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		k := sortKey{x: x}
		if p.isWord("desc") {
			p.next()
			k.desc = true
		} else if p.isWord("asc") {
			p.next()
		}
		sc.keys = append(sc.keys, k)
		if !p.isOp(",") {
			return sc, nil
		}
		p.next()
	}
}

func (p *parser) parseCmd() (command, *CompileError) {
	pc := &parseCmd{src: &fieldRef{name: "@message"}}
	t := p.peek()
	if t.kind == tIdent && !p.isWord("as") {
		p.next()
		pc.src = &fieldRef{name: t.text}
		p.used[t.text] = true
	}
	pat := p.next()
	switch pat.kind {
	case tString:
		pc.glob = strings.Split(pat.text, "*")
		if len(pc.glob) < 2 {
			return nil, p.errAt(pat, "a parse pattern needs at least one * to capture")
		}
		if !p.isWord("as") {
			return nil, p.errAt(p.peek(), "expected as and %d names for the pattern's *s, found %s", len(pc.glob)-1, describe(p.peek()))
		}
		p.next()
		for {
			n := p.next()
			if n.kind != tIdent {
				return nil, p.errAt(n, "expected a field name, found %s", describe(n))
			}
			pc.names = append(pc.names, n.text)
			if !p.isOp(",") {
				break
			}
			p.next()
		}
		if len(pc.names) != len(pc.glob)-1 {
			return nil, newError(p.q, pat.start, p.toks[p.pos-1].end, "the pattern has %d *s but %d names follow as", len(pc.glob)-1, len(pc.names))
		}
	case tRegex:
		re, err := compileRegex(pat.text)
		if err != nil {
			return nil, p.errAt(pat, "%v", err)
		}
		for _, n := range re.SubexpNames()[1:] {
			if n != "" {
				pc.names = append(pc.names, n)
			}
		}
		if len(pc.names) == 0 {
			return nil, p.errAt(pat, "the regular expression names no group: capture with (?<name>...)")
		}
		pc.re = re
	default:
		return nil, p.errAt(pat, "parse takes a pattern in quotes (\"* user=*\") or a regular expression (/user=(?<user>\\S+)/), found %s", describe(pat))
	}
	return pc, nil
}

// compileRegex accepts the service's Java-style named groups (?<name>...).
func compileRegex(src string) (*regexp.Regexp, error) {
	src = strings.ReplaceAll(src, "(?<", "(?P<")
	src = strings.ReplaceAll(src, "(?P<=", "(?<=") // lookbehind stays refused by RE2 below
	src = strings.ReplaceAll(src, "(?P<!", "(?<!")
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, err
	}
	return re, nil
}
