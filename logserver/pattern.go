package logserver

import (
	"unicode/utf8"
	"unsafe"

	"github.com/keelvm/keel/filterpattern"
)

// compilePattern compiles a filter pattern member. An empty pattern matches
// everything and yields a nil matcher, so reads skip matching entirely.
func compilePattern(path string, src *string) (*filterpattern.Pattern, *apiError) {
	if src == nil {
		return nil, nil
	}
	// The length first, as the service checks its model's constraints
	// before it reads a pattern: 2,000 spaces are too long, not blank.
	if utf8.RuneCountInString(*src) > 1024 { // characters, as the service counts
		var v violations
		v.add(*src, path, "Member must have length less than or equal to 1024")
		return nil, v.err()
	}
	p, err := filterpattern.Compile(*src)
	if err != nil {
		// The parser's message names the column and what was wrong there.
		return nil, errInvalidParameter("%s", err.Error())
	}
	// Blank as the parser sees it (ASCII white space: a non-breaking
	// space is a term to search for).
	if p.MatchesAll() {
		return nil, nil
	}
	return p, nil
}

// bytesMatcher adapts a pattern to the store's zero-copy Match hook. The
// message bytes are only looked at during the call, so viewing them as a
// string without copying is safe.
func bytesMatcher(p *filterpattern.Pattern) func([]byte) bool {
	if p == nil {
		return nil
	}
	return func(b []byte) bool {
		if len(b) == 0 {
			return p.Match("")
		}
		return p.Match(unsafe.String(&b[0], len(b)))
	}
}
