package filterpattern

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// scanner holds the pattern text and a byte cursor. The grammar is
// context-sensitive (a '*' is a wildcard in a value but a step in a
// selector; '-' prefixes an exclusion only at the start of a term), so the
// parsers drive the scanner directly instead of consuming a token stream.
type scanner struct {
	src string
	pos int
}

// isSpace is the ASCII whitespace set, used both for separating pattern
// tokens and for splitting space-delimited messages.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func (s *scanner) eof() bool { return s.pos >= len(s.src) }

// peek returns the byte at the cursor, or 0 at the end of the pattern.
func (s *scanner) peek() byte {
	if s.pos < len(s.src) {
		return s.src[s.pos]
	}
	return 0
}

func (s *scanner) hasPrefix(x string) bool { return strings.HasPrefix(s.src[s.pos:], x) }

func (s *scanner) skipSpace() {
	for s.pos < len(s.src) && isSpace(s.src[s.pos]) {
		s.pos++
	}
}

// col converts a byte offset into the 1-based character column users see.
// Counting runes rather than bytes keeps columns right for non-ASCII text.
func (s *scanner) col(off int) int {
	if off > len(s.src) {
		off = len(s.src)
	}
	return utf8.RuneCountInString(s.src[:off]) + 1
}

// errorf builds a *SyntaxError at off. The column of off is appended to
// args, so the format's last verb must be the %d that prints it.
func (s *scanner) errorf(off int, format string, args ...any) error {
	c := s.col(off)
	return &SyntaxError{Pattern: s.src, Column: c, Msg: fmt.Sprintf(format, append(args, c)...)}
}

// errorAt builds a *SyntaxError at off from a finished message, for
// messages that place the column somewhere other than last.
func (s *scanner) errorAt(off int, msg string) error {
	return &SyntaxError{Pattern: s.src, Column: s.col(off), Msg: msg}
}

// describe names the token at off for "unexpected X" messages: a whole
// word when one starts there (so users see 'AND', not 'A'), else one
// character.
func (s *scanner) describe(off int) string {
	if off >= len(s.src) {
		return "end of pattern"
	}
	if s.src[off] == ' ' {
		return "a space"
	}
	j := off
	for j < len(s.src) && j-off < 24 && (isLetter(s.src[j]) || isDigit(s.src[j]) || s.src[j] == '_') {
		j++
	}
	if j > off {
		return "'" + s.src[off:j] + "'"
	}
	r, _ := utf8.DecodeRuneInString(s.src[off:])
	if r < ' ' || r == utf8.RuneError {
		return fmt.Sprintf("%q", r)
	}
	return "'" + string(r) + "'"
}

// scanQuoted reads a double-quoted string whose opening quote is at the
// cursor and returns its text split at unescaped '*' wildcards, so
// len(segs)-1 is the number of wildcards. \" \\ and \* stand for the
// character itself; any other backslash is kept, so Windows paths such as
// "C:\temp" need no doubling.
func (s *scanner) scanQuoted() (segs []string, err error) {
	open := s.pos
	var b strings.Builder
	for i := open + 1; i < len(s.src); i++ {
		switch c := s.src[i]; c {
		case '"':
			s.pos = i + 1
			return append(segs, b.String()), nil
		case '*':
			segs = append(segs, b.String())
			b.Reset()
		case '\\':
			if i+1 < len(s.src) && strings.IndexByte(`"\*`, s.src[i+1]) >= 0 {
				i++
				b.WriteByte(s.src[i])
			} else {
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	return nil, s.errorf(open, "unterminated string starting at column %d")
}

// isBareStop reports the bytes that end an unquoted value inside JSON and
// space-delimited patterns: whitespace and the structural characters.
// '&&' and '||' are handled by scanBare because a single '&' or '|' is
// ordinary text.
func isBareStop(c byte) bool {
	return isSpace(c) || strings.IndexByte(`(){}[],"`, c) >= 0
}

// scanBare reads an unquoted value such as UpdateTrail, 123.123.* or
// -2.5E-1 and returns it (possibly empty).
func (s *scanner) scanBare() string {
	start := s.pos
	for s.pos < len(s.src) && !isBareStop(s.src[s.pos]) && !s.hasPrefix("&&") && !s.hasPrefix("||") {
		s.pos++
	}
	return s.src[start:s.pos]
}

// scanWord reads an ASCII identifier (letters, digits, '_' and '-'), the
// shape of space-delimited field names and of the JSON keywords.
func (s *scanner) scanWord() string {
	start := s.pos
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		if !isLetter(c) && !isDigit(c) && c != '_' && c != '-' {
			break
		}
		s.pos++
	}
	return s.src[start:s.pos]
}
