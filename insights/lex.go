package insights

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tEOF      tokKind = iota
	tIdent            // a field or function name, a keyword; `quoted` too
	tNumber           // 12, 1.5, 1e3
	tDuration         // 5m, 300s, 1h (bin's argument)
	tString           // "..." or '...', unescaped in text
	tRegex            // /.../, the pattern in text
	tOp               // punctuation and operators: | , ( ) [ ] + - * / % ^ = != < <= > >= =~ and *
)

type token struct {
	kind   tokKind
	text   string // identifier, operator, number text, unescaped string, regex source
	quoted bool   // an identifier written in backquotes: never a keyword
	start  int    // byte offset in the query
	end    int    // byte offset just past the token
}

// CompileError is a query the grammar refuses, located as the service's
// queryCompileError is: byte offsets Start (inclusive) and End (exclusive)
// into the query, the 1-based Line of Start, and a message.
type CompileError struct {
	Start, End, Line int
	Message          string
	Query            string
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("line %d, characters %d-%d: %s", e.Line, e.Start, e.End, e.Message)
}

// Mark renders the query with the place of the error underlined, for a
// terminal: the offending line, then carets under Start..End.
func (e *CompileError) Mark() string {
	q := e.Query
	ls := strings.LastIndexByte(q[:min(e.Start, len(q))], '\n') + 1
	le := strings.IndexByte(q[ls:], '\n')
	if le < 0 {
		le = len(q)
	} else {
		le += ls
	}
	line := q[ls:le]
	pad := utf8.RuneCountInString(q[ls:min(e.Start, len(q))])
	w := max(1, utf8.RuneCountInString(q[min(e.Start, len(q)):min(max(e.End, e.Start), le)]))
	return fmt.Sprintf("%s\n%s%s\n%s", line, strings.Repeat(" ", pad), strings.Repeat("^", w), e.Message)
}

func newError(q string, start, end int, format string, args ...any) *CompileError {
	start = min(max(start, 0), len(q))
	end = min(max(end, start), len(q))
	return &CompileError{Start: start, End: end, Line: 1 + strings.Count(q[:start], "\n"), Message: fmt.Sprintf(format, args...), Query: q}
}

// durationUnits are bin()'s units, in milliseconds; mo, q and y are
// calendar units, handled apart (see binMs).
var durationUnits = map[string]int64{
	"ms": 1, "s": 1000, "sec": 1000, "m": 60000, "min": 60000, "h": 3600000, "hr": 3600000,
	"d": 86400000, "w": 7 * 86400000, "mo": -1, "q": -3, "y": -12,
}

func isIdentStart(c byte) bool {
	return c == '@' || c == '_' || c == '$' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' || c == '.' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// lex splits q into tokens. Whether '/' starts a regex or divides depends on
// the token before it: after a value (a name, a number, ')' or ']') it
// divides, unless that name is parse's field ("parse @message /re/").
func lex(q string) ([]token, *CompileError) {
	var toks []token
	i := 0
	for {
		for i < len(q) && (q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r') {
			i++
		}
		if i < len(q) && q[i] == '#' { // a comment runs to the end of the line
			for i < len(q) && q[i] != '\n' {
				i++
			}
			continue
		}
		if i >= len(q) {
			toks = append(toks, token{kind: tEOF, start: len(q), end: len(q)})
			return toks, nil
		}
		start := i
		c := q[i]
		switch {
		case isDigit(c) || c == '.' && i+1 < len(q) && isDigit(q[i+1]):
			for i < len(q) && (isDigit(q[i]) || q[i] == '.') {
				i++
			}
			if i < len(q) && (q[i] == 'e' || q[i] == 'E') && i+1 < len(q) && (isDigit(q[i+1]) || (q[i+1] == '-' || q[i+1] == '+') && i+2 < len(q) && isDigit(q[i+2])) {
				i += 2
				for i < len(q) && isDigit(q[i]) {
					i++
				}
			}
			ns := i
			for i < len(q) && ('a' <= q[i] && q[i] <= 'z' || 'A' <= q[i] && q[i] <= 'Z') {
				i++
			}
			if i > ns {
				if _, ok := durationUnits[strings.ToLower(q[ns:i])]; !ok {
					return nil, newError(q, start, i, "%q is not a number or a duration: a duration's unit is one of ms, s, m, min, h, hr, d, w, mo, q, y", q[start:i])
				}
				toks = append(toks, token{kind: tDuration, text: q[start:i], start: start, end: i})
				continue
			}
			toks = append(toks, token{kind: tNumber, text: q[start:i], start: start, end: i})
		case isIdentStart(c):
			for i < len(q) && isIdentChar(q[i]) {
				i++
			}
			toks = append(toks, token{kind: tIdent, text: q[start:i], start: start, end: i})
		case c == '`':
			j := strings.IndexByte(q[i+1:], '`')
			if j < 0 {
				return nil, newError(q, start, len(q), "unterminated quoted name: add a closing `")
			}
			i += j + 2
			toks = append(toks, token{kind: tIdent, text: q[start+1 : i-1], quoted: true, start: start, end: i})
		case c == '"' || c == '\'':
			var b strings.Builder
			i++
			closed := false
			for i < len(q) {
				if q[i] == '\\' && i+1 < len(q) {
					switch q[i+1] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					default:
						b.WriteByte(q[i+1])
					}
					i += 2
					continue
				}
				if q[i] == c {
					closed = true
					i++
					break
				}
				b.WriteByte(q[i])
				i++
			}
			if !closed {
				return nil, newError(q, start, len(q), "unterminated string: add a closing %c", c)
			}
			toks = append(toks, token{kind: tString, text: b.String(), start: start, end: i})
		case c == '/' && regexAllowed(toks):
			i++
			closed := false
			for i < len(q) {
				if q[i] == '\\' && i+1 < len(q) {
					i += 2
					continue
				}
				if q[i] == '/' {
					closed = true
					i++
					break
				}
				i++
			}
			if !closed {
				return nil, newError(q, start, len(q), "unterminated regular expression: add a closing /")
			}
			// A trailing flag such as /error/i is not part of the service's
			// syntax; case-insensitivity is written (?i) inside.
			toks = append(toks, token{kind: tRegex, text: strings.ReplaceAll(q[start+1:i-1], `\/`, `/`), start: start, end: i})
		default:
			two := ""
			if i+1 < len(q) {
				two = q[i : i+2]
			}
			switch two {
			case "!=", "<=", ">=", "=~", "==":
				i += 2
				toks = append(toks, token{kind: tOp, text: two, start: start, end: i})
				continue
			}
			if strings.IndexByte("|,()[]+-*/%^=<>", c) < 0 {
				r, n := utf8.DecodeRuneInString(q[i:])
				return nil, newError(q, start, start+n, "unexpected character %q", r)
			}
			i++
			toks = append(toks, token{kind: tOp, text: q[start:i], start: start, end: i})
		}
	}
}

// regexAllowed reports whether a '/' after toks starts a regular expression.
func regexAllowed(toks []token) bool {
	if len(toks) == 0 {
		return true
	}
	p := toks[len(toks)-1]
	switch p.kind {
	case tNumber, tDuration, tString, tRegex:
		return false
	case tOp:
		return p.text != ")" && p.text != "]"
	case tIdent:
		if len(toks) >= 2 && toks[len(toks)-2].kind == tIdent && strings.EqualFold(toks[len(toks)-2].text, "parse") {
			return true
		}
		if p.quoted {
			return false
		}
		switch strings.ToLower(p.text) {
		case "like", "filter", "and", "or", "not", "in", "parse":
			return true
		}
	}
	return false
}
