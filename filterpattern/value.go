package filterpattern

import (
	"encoding/json"
	"regexp"
)

// op is a comparison operator.
type op uint8

const (
	opEq op = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

var opNames = [...]string{opEq: "=", opNe: "!=", opLt: "<", opLe: "<=", opGt: ">", opGe: ">="}

func (o op) String() string { return opNames[o] }

// ordered reports operators that only make sense between numbers.
func (o op) ordered() bool { return o >= opLt }

// valueKind says how the right-hand side of a comparison was written,
// which decides what it can match (see the package documentation).
type valueKind uint8

const (
	kindNumber valueKind = iota // 200, -2.5E-1, 1e+3: compared numerically
	kindString                  // "text" or bare text without '*': exact equality
	kindGlob                    // text with '*' wildcards
	kindRegex                   // %regex%: unanchored search
	kindAny                     // '*' alone: any value at all ("exists")
)

// comparison is one "op value" pair, compiled.
type comparison struct {
	op   op
	kind valueKind
	num  float64
	str  string
	glob glob
	re   *regexp.Regexp
}

// textMatches applies a non-numeric value to text, ignoring op.
func (c *comparison) textMatches(s string) bool {
	switch c.kind {
	case kindString:
		return s == c.str
	case kindGlob:
		return c.glob.match(s)
	case kindRegex:
		return c.re.MatchString(s)
	}
	return true // kindAny
}

// textResult turns textMatches into the comparison's answer; only = and !=
// reach here, the parser rejects ordering operators on text.
func (c *comparison) textResult(s string) bool {
	return c.textMatches(s) != (c.op == opNe)
}

func (c *comparison) numberHolds(f float64) bool {
	switch c.op {
	case opEq:
		return f == c.num
	case opNe:
		return f != c.num
	case opLt:
		return f < c.num
	case opLe:
		return f <= c.num
	case opGt:
		return f > c.num
	}
	return f >= c.num
}

// field compares one space-delimited field. Fields are always text, so a
// numeric value applies when the field parses as a number.
func (c *comparison) field(s string) bool {
	switch c.kind {
	case kindNumber:
		f, ok := parseNumber(s)
		return ok && c.numberHolds(f)
	case kindAny:
		return c.op == opEq
	}
	return c.textResult(s)
}

// jsonValue compares one value selected from a JSON event. The type rules
// (documented in doc.go): numbers compare numerically only with JSON
// numbers; exact strings only with JSON strings; wildcards and regexes
// with strings and with a number's literal text; '*' alone with anything.
// A value of another type never satisfies the comparison, not even !=.
func (c *comparison) jsonValue(v any) bool {
	if c.kind == kindAny {
		return c.op == opEq
	}
	switch x := v.(type) {
	case string:
		return c.kind != kindNumber && c.textResult(x)
	case json.Number:
		switch c.kind {
		case kindNumber:
			return c.numberHolds(jsonFloat(x))
		case kindGlob, kindRegex:
			return c.textResult(string(x))
		}
	}
	return false
}
