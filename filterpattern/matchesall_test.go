package filterpattern

import "testing"

func TestMatchesAll(t *testing.T) {
	for src, want := range map[string]bool{
		"":            true,
		" \t\n":       true,
		"\u00a0":      false, // a non-breaking space is a term
		"ERROR":       false,
		"{ $.a = 1 }": false,
	} {
		p, err := Compile(src)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if got := p.MatchesAll(); got != want {
			t.Errorf("%q: MatchesAll %v, want %v", src, got, want)
		}
	}
	var none *Pattern
	if !none.MatchesAll() {
		t.Error("nil pattern: MatchesAll false")
	}
}
