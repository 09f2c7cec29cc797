package insights

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// kind is the type of a Value.
type kind uint8

const (
	kNull kind = iota // missing field or undefined result
	kNum              // a number
	kStr              // a string (which may look like a number)
	kTime             // milliseconds since the epoch, shown as a date
	kBool             // the result of a comparison
)

// Value is what an expression yields. A string that looks like a number
// compares and computes as that number, as the service documents.
type Value struct {
	k kind
	n float64 // kNum, kTime (ms), kBool (0 or 1)
	s string  // kStr; for kNum the text it came from, when any (kept for output)
}

var null = Value{}

func num(f float64) Value               { return Value{k: kNum, n: f} }
func str(s string) Value                { return Value{k: kStr, s: s} }
func timeMs(ms float64) Value           { return Value{k: kTime, n: ms} }
func numText(f float64, s string) Value { return Value{k: kNum, n: f, s: s} }
func boolean(b bool) Value {
	if b {
		return Value{k: kBool, n: 1}
	}
	return Value{k: kBool}
}

// IsNull reports whether v is missing.
func (v Value) IsNull() bool { return v.k == kNull }

// number returns v as a number, and whether it is one (a numeric string is).
func (v Value) number() (float64, bool) {
	switch v.k {
	case kNum, kTime, kBool:
		return v.n, true
	case kStr:
		return parseNum(v.s)
	}
	return 0, false
}

func parseNum(s string) (float64, bool) {
	if s == "" || len(s) > 64 {
		return 0, false
	}
	c := s[0]
	if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.') {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// truthy is how filter reads a value: a comparison's result, or a present,
// non-empty, non-zero value.
func (v Value) truthy() bool {
	switch v.k {
	case kBool, kNum, kTime:
		return v.n != 0
	case kStr:
		return v.s != ""
	}
	return false
}

// String is the value as GetQueryResults shows it: every value is a string.
func (v Value) String() string {
	switch v.k {
	case kNum:
		if v.s != "" {
			return v.s
		}
		return formatNum(v.n)
	case kStr:
		return v.s
	case kTime:
		return FormatTime(int64(v.n))
	case kBool:
		if v.n != 0 {
			return "1"
		}
		return "0"
	}
	return ""
}

// text is the value as a string function sees it.
func (v Value) text() string { return v.String() }

func formatNum(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// timeLayout is how the service shows @timestamp: UTC, milliseconds.
const timeLayout = "2006-01-02 15:04:05.000"

// FormatTime renders epoch milliseconds as the service does.
func FormatTime(ms int64) string { return time.UnixMilli(ms).UTC().Format(timeLayout) }

// compare orders a and b: numerically when both are numbers (numeric
// strings included), else as strings. ok is false when either is missing.
func compare(a, b Value) (c int, ok bool) {
	if a.k == kNull || b.k == kNull {
		return 0, false
	}
	if x, okx := a.number(); okx {
		if y, oky := b.number(); oky {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		}
	}
	// A time compared with a date string compares as the shown text.
	return strings.Compare(a.text(), b.text()), true
}

// naturalCompare is the service's sort order: non-number values before
// number values; numbers by value; other text split into runs of digits
// and of non-digits, digit runs ordered by length then value, the rest by
// Unicode code point.
func naturalCompare(a, b Value) int {
	x, aNum := a.number()
	y, bNum := b.number()
	if a.k == kStr {
		aNum = aNum && isPlainNumber(a.s)
	}
	if b.k == kStr {
		bNum = bNum && isPlainNumber(b.s)
	}
	switch {
	case aNum && bNum:
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case aNum:
		return 1
	case bNum:
		return -1
	}
	s, t := a.text(), b.text()
	for s != "" && t != "" {
		cs, rs := chunk(s)
		ct, rt := chunk(t)
		if isDigit(cs[0]) && isDigit(ct[0]) {
			if len(cs) != len(ct) {
				return cmpInt(len(cs), len(ct))
			}
		}
		if c := strings.Compare(cs, ct); c != 0 {
			return c
		}
		s, t = rs, rt
	}
	return cmpInt(len(s), len(t))
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// chunk splits off the leading run of digits or of non-digits.
func chunk(s string) (string, string) {
	d := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == d {
		i++
	}
	return s[:i], s[i:]
}

// isPlainNumber reports whether a string holds only a number (digits, a
// sign, a decimal point), a "number value" in the sort's sense.
func isPlainNumber(s string) bool {
	_, ok := parseNum(s)
	return ok && !strings.ContainsAny(s, "eE")
}
