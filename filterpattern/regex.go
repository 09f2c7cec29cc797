package filterpattern

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

const (
	// maxRegexes is AWS's quota of regular expressions per filter pattern.
	maxRegexes = 2

	// maxRegexInsts caps the size of a compiled regex. Go's regexp runs in
	// time linear in the message, but the constant factor grows with the
	// program size (a large counted repetition such as [a-z]{1,900} keeps
	// hundreds of threads alive per byte). The cap keeps a 1 MiB message
	// matchable in well under a second while leaving ample room for real
	// patterns: the IP-address example from the AWS documentation needs
	// about 30 instructions.
	maxRegexInsts = 300
)

// regexSymbols are the characters AWS allows in a regex besides ASCII
// letters and digits: its documented symbols, its documented operators,
// and the space (the documentation's own %^shutting down% example has one).
const regexSymbols = ":_#=@/;,-" + "^$?[]{}|\\*+." + " "

// regexClassEscapes are the documented escapes for character classes.
const regexClassEscapes = "dDsSwW"

// parseRegex reads %...% at the cursor, enforces AWS's quota and syntax
// subset, and compiles it for RE2 (linear-time) matching.
func (p *parser) parseRegex() (*regexp.Regexp, error) {
	open := p.pos
	end := strings.IndexByte(p.src[open+1:], '%')
	if end < 0 {
		return nil, p.errorf(open, "unterminated regex starting at column %d")
	}
	body := p.src[open+1 : open+1+end]
	p.regexes++
	if p.regexes > maxRegexes {
		return nil, p.errorf(open, "at most %d regular expressions per pattern (third at column %d)", maxRegexes)
	}
	if body == "" {
		return nil, p.errorf(open, "empty regex %%%% at column %d")
	}
	expr, err := p.translateRegex(body, open+1)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		var se *syntax.Error
		msg := err.Error()
		if errors.As(err, &se) {
			msg = string(se.Code)
		}
		return nil, p.errorAt(open, fmt.Sprintf("invalid regex %%%s%% at column %d: %s", body, p.col(open), msg))
	}
	if n := regexInsts(expr); n > maxRegexInsts {
		return nil, p.errorAt(open, fmt.Sprintf("regex %%%s%% at column %d is too complex (%d instructions, at most %d)", body, p.col(open), n, maxRegexInsts))
	}
	p.pos = open + 1 + end + 1
	return re, nil
}

// translateRegex checks body against AWS's documented subset and rewrites
// what Go reads differently: {,n} (Go needs {0,n}), repetitions written
// with spaces ({m, n}), braces that are not a repetition (literal), and
// '$', which must also match before a final newline. base is body's
// offset in the pattern, for error columns.
func (p *parser) translateRegex(body string, base int) (string, error) {
	var b strings.Builder
	inClass := false // inside [...], where braces are literal
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= 0x80:
			return "", p.errorf(base+i, "multi-byte characters are not supported in a regex (column %d)")
		case c == '(' || c == ')':
			return "", p.errorf(base+i, "regex %%...%% may not contain parentheses (column %d); use \\x28 and \\x29 to match them")
		case c == '\\':
			n, err := p.regexEscape(body, i, base)
			if err != nil {
				return "", err
			}
			b.WriteString(body[i : i+n])
			i += n - 1
			continue
		case !isLetter(c) && !isDigit(c) && strings.IndexByte(regexSymbols, c) < 0:
			return "", p.errorf(base+i, "unsupported character %s in a regex at column %d; use \\xhh to match it", p.describe(base+i))
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '$':
			// Many log events end in a newline (Lambda's do); let $ match
			// before it, as '$' does in Java and Perl.
			b.WriteString(`(?:\n?$)`)
			continue
		case c == '[':
			inClass = true
			// A ']' first in the class (after an optional '^') is literal.
			j := i + 1
			if j < len(body) && body[j] == '^' {
				j++
			}
			if j < len(body) && body[j] == ']' {
				b.WriteString(body[i : j+1])
				i = j
				continue
			}
		case c == '{':
			if rep, n := repetition(body[i:]); n > 0 {
				b.WriteString(rep)
				i += n - 1
			} else {
				b.WriteString(`\{`) // not a repetition: a literal brace, as AWS reads it
			}
			continue
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// regexEscape validates the escape starting at body[i] == '\\' and returns
// its length: \d \D \s \S \w \W, \xhh, or a backslash before one of the
// allowed symbols to take it literally.
func (p *parser) regexEscape(body string, i, base int) (int, error) {
	if i+1 >= len(body) {
		return 0, p.errorf(base+i, "regex may not end with '\\' (column %d); a regex ends at the first '%%', match a percent sign with \\x25")
	}
	n := body[i+1]
	switch {
	case strings.IndexByte(regexClassEscapes, n) >= 0:
		return 2, nil
	case n == 'x':
		if i+3 < len(body) && isHex(body[i+2]) && isHex(body[i+3]) {
			return 4, nil
		}
		return 0, p.errorf(base+i, "\\x must be followed by two hex digits in a regex (column %d)")
	case n == '(' || n == ')':
		return 0, p.errorf(base+i+1, "regex %%...%% may not contain parentheses (column %d); use \\x28 and \\x29 to match them")
	case n != ' ' && strings.IndexByte(regexSymbols, n) >= 0:
		return 2, nil
	}
	// Name the whole character: n may be only the first byte of one.
	r, _ := utf8.DecodeRuneInString(body[i+1:])
	return 0, p.errorf(base+i, "unsupported escape '\\%c' in a regex at column %d", r)
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// repetition recognises a counted repetition at the start of s, allowing
// spaces and an omitted minimum, and returns it in Go's spelling with the
// number of bytes consumed; n == 0 means s does not start with one.
func repetition(s string) (rep string, n int) {
	i := 1
	skip := func() {
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	num := func() string {
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		return s[start:i]
	}
	skip()
	lo := num()
	skip()
	if i < len(s) && s[i] == '}' {
		if lo == "" {
			return "", 0
		}
		return "{" + lo + "}", i + 1
	}
	if i >= len(s) || s[i] != ',' {
		return "", 0
	}
	i++
	skip()
	hi := num()
	skip()
	if i >= len(s) || s[i] != '}' || lo == "" && hi == "" {
		return "", 0
	}
	if lo == "" {
		lo = "0"
	}
	return "{" + lo + "," + hi + "}", i + 1
}

// regexInsts returns the compiled program size of an expression that
// regexp.Compile has already accepted.
func regexInsts(expr string) int {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return 0
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0
	}
	return len(prog.Inst)
}
