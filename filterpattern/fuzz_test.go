package filterpattern

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzMessages are matched against every pattern the fuzzer manages to
// compile, covering each pattern form's input shapes.
var fuzzMessages = []string{
	"", " ", "x", e400, e500, docJSON, compJSON, numJSON, clf, clf404, line4,
	`{"a":[1,{"b":null}],"c":"d e"}`, `{"a":`, `[1,2]`, `"quoted [open`, "a\x00b\xff",
}

func FuzzCompile(f *testing.F) {
	for _, c := range matchCases {
		f.Add(c.pattern)
	}
	for _, c := range errorCases {
		f.Add(c.pattern)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Compile(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q) error %T is not a *SyntaxError", src, err)
			}
			if max := utf8.RuneCountInString(src) + 1; se.Column < 1 || se.Column > max {
				t.Fatalf("Compile(%q) column %d outside 1..%d", src, se.Column, max)
			}
			if se.Pattern != src || !strings.HasPrefix(err.Error(), "invalid filter pattern: ") || se.Msg == "" {
				t.Fatalf("Compile(%q) malformed error %#v", src, se)
			}
			return
		}
		if p.String() != src {
			t.Fatalf("String() = %q, want %q", p.String(), src)
		}
		// A second Compile must agree: parsing has no hidden state.
		q, err := Compile(src)
		if err != nil {
			t.Fatalf("Compile(%q) succeeded once, then failed: %v", src, err)
		}
		for _, m := range append(fuzzMessages, src) {
			if got, again := p.Match(m), q.Match(m); got != again {
				t.Fatalf("Compile(%q).Match(%q) gave %v, then %v", src, m, got, again)
			}
		}
	})
}
