package filterpattern

// Pattern is a compiled filter pattern. It is immutable after Compile and
// safe for concurrent use by any number of goroutines.
type Pattern struct {
	src string
	m   matcher // nil when the pattern matches every event
}

// matcher is implemented by the three pattern forms (terms, JSON,
// space-delimited). match must not retain msg: callers may pass a string
// that aliases a reused buffer.
type matcher interface {
	match(msg string) bool
}

// Compile parses src. The returned error, if any, is a *SyntaxError.
// An empty or all-whitespace pattern compiles to a Pattern that matches
// every event.
func Compile(src string) (*Pattern, error) {
	m, err := parse(src)
	if err != nil {
		return nil, err
	}
	return &Pattern{src: src, m: m}, nil
}

// MatchesAll reports whether the pattern matches every event (it is nil,
// empty or white space): a reader may skip matching altogether.
func (p *Pattern) MatchesAll() bool { return p == nil || p.m == nil }

// Match reports whether message satisfies the pattern. A nil *Pattern
// matches everything, like an empty pattern.
func (p *Pattern) Match(message string) bool {
	if p.MatchesAll() {
		return true
	}
	return p.m.match(message)
}

// String returns the source text the pattern was compiled from.
func (p *Pattern) String() string {
	if p == nil {
		return ""
	}
	return p.src
}
