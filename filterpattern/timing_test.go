package filterpattern

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestAdversarialTiming guards the linear-time promise: patterns built to
// provoke backtracking or repeated scanning must still match 1 MiB
// messages quickly, and patterns past the parser's limits must be
// rejected quickly.
func TestAdversarialTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing guard skipped in -short mode")
	}
	const mib = 1 << 20
	as := strings.Repeat("a", mib)
	words := strings.Repeat("lorem ipsum dolor sit amet ", mib/27)
	abs := strings.Repeat("ab", mib/2)
	digits := strings.Repeat("1", mib)
	jsonMsg := `{"k":"` + as[:mib-64] + `","arr":[` + strings.Repeat("1,", 1000) + `2]}`
	spaceMsg := strings.Repeat("a ", mib/2)
	unclosed := strings.Repeat("[ ", mib/2)

	stars := func(seg string, n int, tail string) string {
		return strings.Repeat("*"+seg, n) + tail
	}
	manyTerms := func(prefix string, n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(prefix + "absent" + strings.Repeat("x", i%7) + "zq ")
		}
		return b.String()
	}

	cases := []struct {
		name, pattern, message string
		rejected               bool
		regex                  bool // bounded by regexTimingBound instead
	}{
		{"json many stars, no match", `{ $.k = "` + stars("a", 500, "b") + `" }`, jsonMsg, false, false},
		{"json many stars, repeating pieces", `{ $.k = "` + stars("aaaaaaaaaaaaaaab", 200, "") + `" }`, jsonMsg, false, false},
		{"json stars vs ab", `{ $.k = "` + stars("ab", 1000, "c") + `" }`, `{"k":"` + abs + `"}`, false, false},
		{"json wildcard array", `{ $.arr[*] = 3 || $.arr[*] = "x*" || $.k = %b$% }`, jsonMsg, false, false},
		{"json 100-deep parentheses", "{ " + deepParens(maxDepth) + " }", jsonMsg, false, false},
		{"json 1000-deep parentheses", "{ " + deepParens(1000) + " }", jsonMsg, true, false},
		{"json 1e5 conditions", "{ " + strings.Repeat("$.k = x || ", 100000) + "$.k = y }", jsonMsg, false, false},
		{"space many stars", `[f = "` + stars("a", 500, "b") + `"]`, as, false, false},
		{"space many stars, suffix present", `[f = "` + stars("a", 500, "b") + `"]`, as[1:] + "b", false, false},
		{"space long pieces, suffix present", `[f = "` + stars("aaaaaaaaaaaaaaac", 200, "b") + `"]`, as[1:] + "b", false, false},
		{"space star field vs many fields", `[..., f = "` + stars("a", 200, "b") + `"]`, spaceMsg, false, false},
		{"space many fields numeric", `[x, ..., y > 5, z < 0]`, spaceMsg, false, false},
		{"space long pattern", "[" + strings.Repeat("f = a*, ", 2000) + "...]", spaceMsg, false, false},
		// Every field opens a bracket that never closes: looking ahead for
		// each one's ']' would rescan the rest of the message per field.
		{"space unclosed brackets", `[..., f = x]`, unclosed, false, false},
		{"space unclosed nested brackets", `[..., f = x]`, strings.Repeat("[[ ", mib/3) + "]", false, false},
		{"2000 ? terms", manyTerms("?", 2000), words[:mib/8], false, false},
		{"200 ? terms", manyTerms("?", 200), words, false, false},
		{"200 plain terms present", strings.Repeat("ipsum ", 200), words, false, false},
		{"200 exclusions", manyTerms("-", 200), words, false, false},
		{"regex groups rejected", `%(a+)+b%`, as, true, false},
		{"regex a*a*a*...b", "%" + strings.Repeat("a*", 8) + "b%", as, false, true},
		{"regex a+a+a+...b", "%" + strings.Repeat("a+", 8) + "b%", as, false, true},
		{"regex ip (AWS example)", `%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%`, digits, false, true},
		{"regex alternation (AWS example)", `%^starting|^initializing|^shutting down%`, words, false, true},
		{"regex in json", `{ $.k = %a*a*a*a*b% }`, jsonMsg, false, true},
		{"regex in space field", `[f = %a+a+a+a+b%]`, as, false, true},
	}
	for _, c := range cases {
		bound := timingBound
		if c.regex {
			bound = regexTimingBound
		}
		t.Run(c.name, func(t *testing.T) {
			d := bestOf(bound, func() {
				p, err := Compile(c.pattern)
				if c.rejected != (err != nil) {
					t.Fatalf("Compile error = %v, want rejected=%v", err, c.rejected)
				}
				if err == nil {
					p.Match(c.message)
				}
			})
			if d > bound {
				t.Errorf("took %v, want under %v", d, bound)
			}
			t.Logf("%v", d)
		})
	}
}

// bestOf runs f up to three times and returns the fastest run, stopping
// early once a run beats bound. The machine may be shared, so one slow run
// can be noise; an algorithm that is really too slow fails every attempt.
func bestOf(bound time.Duration, f func()) time.Duration {
	best := time.Duration(math.MaxInt64)
	for range 3 {
		start := time.Now()
		f()
		best = min(best, time.Since(start))
		if best <= bound {
			break
		}
	}
	return best
}

// TestRegexWorstCase measures the largest regex the instruction cap
// admits against 1 MiB of input it keeps alive in every NFA thread. Go's
// regexp stays linear, but its cost per byte grows with the program size;
// this pins the worst case the cap allows.
func TestRegexWorstCase(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("worst-case regex timing runs only in the plain, non-short build")
	}
	p, err := Compile(`%[a-z]{1,148}X%`)
	if err != nil {
		t.Fatal(err)
	}
	msg := strings.Repeat("abcdefghijklmnopqrstuvwxyz", (1<<20)/26)
	const bound = 4 * time.Second
	d := bestOf(bound, func() { p.Match(msg) })
	t.Logf("largest admitted regex over 1 MiB: %v", d)
	if d > bound {
		t.Errorf("took %v, want under %v", d, bound)
	}
}
