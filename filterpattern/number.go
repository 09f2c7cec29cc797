package filterpattern

import (
	"encoding/json"
	"strconv"
)

// isNumber reports whether s has the shape AWS documents for numbers:
// an optional sign, digits, an optional fraction and an optional exponent
// (200, -5, 12.34, 1e+3, -2.5E-1). The check comes before ParseFloat
// because ParseFloat would also accept "Inf", "NaN", hex floats and
// underscores, which are words here, not numbers.
func isNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() bool {
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		return i > start
	}
	if !digits() {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

// parseNumber converts s when isNumber accepts it. Out-of-range values
// become ±Inf or 0, which still compare sensibly.
func parseNumber(s string) (float64, bool) {
	if !isNumber(s) {
		return 0, false
	}
	f, _ := strconv.ParseFloat(s, 64) // only range errors are possible here
	return f, true
}

// jsonFloat converts a decoded JSON number; encoding/json has already
// checked its syntax, so only range errors are possible and they are
// absorbed the same way.
func jsonFloat(n json.Number) float64 {
	f, _ := strconv.ParseFloat(string(n), 64)
	return f
}
