package filterpattern

import (
	"errors"
	"testing"
)

// errorCases pins the exact message and column of every kind of syntax
// error, since they reach users verbatim through the API.
var errorCases = []struct {
	pattern string
	column  int
	msg     string
}{
	{`{ $.abcd = 12 ) }`, 15, `unexpected ')' at column 15`},
	{`"abc`, 1, `unterminated string starting at column 1`},
	{`ab "cd`, 4, `unterminated string starting at column 4`},
	{`ñandú "x`, 7, `unterminated string starting at column 7`},
	{`{ $.a = "abc }`, 9, `unterminated string starting at column 9`},
	{`{}`, 2, `expected a selector like $.field after '{', found '}' at column 2`},
	{`{ }`, 3, `expected a selector like $.field after '{', found '}' at column 3`},
	{`{ a = 1 }`, 3, `expected a selector like $.field after '{', found 'a' at column 3`},
	{`{ $ = 1 }`, 4, `expected '.' or '[' after '$', found a space at column 4`},
	{`{ $. = 1 }`, 5, `expected a property name after '.', found a space at column 5`},
	{`{ $.a[x] = 1 }`, 7, `expected an array index, '*' or a quoted property name after '[', found 'x' at column 7`},
	{`{ $.a[0 = 1 }`, 8, `missing ']' for the '[' at column 6, found a space at column 8`},
	{`{ $.a['b = 1 }`, 7, `unterminated string starting at column 7`},
	{`{ $.a[99999999999] = 1 }`, 7, `array index too large at column 7`},
	{`{ $.*.b[*] = 1 }`, 9, `at most one wildcard per property selector (second at column 9)`},
	{`{ $.a[*] = 1 || $.b[*] = 1 || $.c[*] = 1 || $.d[*] = 1 }`, 49, `at most 3 wildcard selectors per pattern (fourth at column 49)`},
	{`%a(b%`, 3, `regex %...% may not contain parentheses (column 3); use \x28 and \x29 to match them`},
	{`%a\(b%`, 4, `regex %...% may not contain parentheses (column 4); use \x28 and \x29 to match them`},
	{`%a% %b% %c%`, 9, `at most 2 regular expressions per pattern (third at column 9)`},
	{`{ $.a = %x% || $.b = %y% || $.c = %z% }`, 35, `at most 2 regular expressions per pattern (third at column 35)`},
	{`{ $.a => 1 }`, 7, `unknown operator '=>' at column 7`},
	{`{ $.a == 1 }`, 7, `unknown operator '==' at column 7`},
	{`{ $.a <> 1 }`, 7, `unknown operator '<>' at column 7`},
	{`{ $.a ! 1 }`, 7, `unknown operator '!' at column 7`},
	{`{ $.a & $.b }`, 7, `unknown operator '&' at column 7`},
	{`{ $.a }`, 7, `expected a comparison operator (=, !=, <, <=, >, >=, IS or NOT EXISTS), found '}' at column 7`},
	{`{ $.a IS NOT NULL }`, 7, `IS NOT is not supported (column 7); use != or NOT EXISTS`},
	{`{ $.a IS EMPTY }`, 10, `expected NULL, TRUE or FALSE after IS, found 'EMPTY' at column 10`},
	{`{ $.a NOT NULL }`, 11, `expected EXISTS after NOT, found 'NULL' at column 11`},
	{`{ $.a EXISTS }`, 7, `EXISTS is not supported (column 7); use '= *' to test that a field exists`},
	{`{ $.a is null }`, 7, `keywords are case-sensitive: write IS, not 'is' (column 7)`},
	{`{ $.a FOO 1 }`, 7, `expected a comparison operator (=, !=, <, <=, >, >=), IS or NOT EXISTS after the selector, found 'FOO' at column 7`},
	{`{ $.a > abc }`, 9, `operator '>' needs a number, found 'abc' at column 9`},
	{`{ $.a >= "5" }`, 10, `operator '>=' needs a number, found '"5"' at column 10`},
	{`{ $.a < 1* }`, 9, `operator '<' needs a number, found '1*' at column 9`},
	{`{ $.a = }`, 9, `expected a value after '=', found '}' at column 9`},
	{`{ $.a = 1 && }`, 14, `expected a selector like $.field after '&&', found '}' at column 14`},
	{`{ $.a = 1 || }`, 14, `expected a selector like $.field after '||', found '}' at column 14`},
	{`{ ($.a = 1 }`, 12, `missing ')' for the '(' at column 3, found '}' at column 12`},
	{`{ ($.a = 1 ))) }`, 13, `unexpected ')' at column 13`},
	{`{ $.a = 1 AND $.b = 2 }`, 11, `unexpected 'AND' at column 11; join conditions with && or ||`},
	{`{ $.a = 1 $.b = 2 }`, 11, `unexpected '$' at column 11; join conditions with && or ||`},
	{`{ $.a = 1`, 10, `missing '}' for the '{' at column 1: pattern ends at column 10`},
	{`{ $.a = 1 } x`, 13, `unexpected 'x' after the end of the JSON pattern at column 13`},
	{`{ $.a = 1 } }`, 13, `unexpected '}' after the end of the JSON pattern at column 13`},
	{`[a, ..., b, ..., c]`, 13, `'...' may appear only once in a space-delimited pattern (second at column 13)`},
	{`[a, b`, 6, `missing ']' for the '[' at column 1: pattern ends at column 6`},
	{`[a = 1, b == 2]`, 11, `unknown operator '==' at column 11`},
	{`[a = 1 || c = 2]`, 11, `a condition in field 'a' tests 'c' at column 11; each field's conditions must name that field`},
	{`[]`, 2, `expected a field name after '[', found ']' at column 2`},
	{`[a, ]`, 5, `expected a field name after ',', found ']' at column 5`},
	{`[... = 5]`, 6, `'...' cannot have a condition (column 6)`},
	{`[a = 1 b]`, 8, `unexpected 'b' at column 8; separate fields with ','`},
	{`[a b]`, 4, `expected a comparison operator (=, !=, <, <=, >, >=), found 'b' at column 4`},
	{`[a > x]`, 6, `operator '>' needs a number, found 'x' at column 6`},
	{`[a = ]`, 6, `expected a value after '=', found ']' at column 6`},
	{`[ , a]`, 3, `expected a field name after '[', found ',' at column 3`},
	{`[a] x`, 5, `unexpected 'x' after the end of the space-delimited pattern at column 5`},
	{`ERROR [main]`, 7, `'[' at column 7 can only open a space-delimited pattern, at the very beginning; quote the term to search for it literally`},
	{`ERROR {x}`, 7, `'{' at column 7 can only open a JSON pattern, at the very beginning; quote the term to search for it literally`},
	{`? foo`, 1, `expected a term after '?' at column 1`},
	{`ERROR -`, 7, `expected a term after '-' at column 7`},
	{`"abc"def`, 6, `unexpected 'def' after the closing '"' at column 6; separate terms with a space`},
	{`%abc%def`, 6, `unexpected 'def' after the closing '%' at column 6; separate terms with a space`},
	{`%abc`, 1, `unterminated regex starting at column 1`},
	{`%%`, 1, `empty regex %% at column 1`},
	{`%a!b%`, 3, `unsupported character '!' in a regex at column 3; use \xhh to match it`},
	{`%\bword%`, 2, `unsupported escape '\b' in a regex at column 2`},
	{`%a\é%`, 3, `unsupported escape '\é' in a regex at column 3`}, // the character, not its first byte
	{`%ñ%`, 2, `multi-byte characters are not supported in a regex (column 2)`},
	{`%[abc%`, 1, `invalid regex %[abc% at column 1: missing closing ]`},
	{`%a**%`, 1, `invalid regex %a**% at column 1: invalid nested repetition operator`},
	{`%*a%`, 1, `invalid regex %*a% at column 1: missing argument to repetition operator`},
	{`%.{1000}%`, 1, `regex %.{1000}% at column 1 is too complex (1002 instructions, at most 300)`},
	{`%[a-z]{1,150}%`, 1, `regex %[a-z]{1,150}% at column 1 is too complex (301 instructions, at most 300)`},
	{`%a\%`, 3, `regex may not end with '\' (column 3); a regex ends at the first '%', match a percent sign with \x25`},
	{`%\x4%`, 2, `\x must be followed by two hex digits in a regex (column 2)`},
	{"%a\tb%", 3, `unsupported character '\t' in a regex at column 3; use \xhh to match it`},
	{"{ " + deepParens(maxDepth+1) + " }", maxDepth + 3, `parentheses nested more than 100 deep at column 103`},
}

func deepParens(n int) string {
	s := "$.a = 1"
	for range n {
		s = "(" + s + ")"
	}
	return s
}

func TestCompileErrors(t *testing.T) {
	for _, c := range errorCases {
		p, err := Compile(c.pattern)
		if err == nil {
			t.Errorf("Compile(%q) = %q, want an error", c.pattern, p)
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Compile(%q) error %T is not a *SyntaxError", c.pattern, err)
			continue
		}
		if se.Msg != c.msg || se.Column != c.column || se.Pattern != c.pattern {
			t.Errorf("Compile(%q):\n got column %d %q\nwant column %d %q", c.pattern, se.Column, se.Msg, c.column, c.msg)
		}
		if want := "invalid filter pattern: " + c.msg; err.Error() != want {
			t.Errorf("Compile(%q).Error() = %q, want %q", c.pattern, err.Error(), want)
		}
	}
}
