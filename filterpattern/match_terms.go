package filterpattern

import (
	"regexp"
	"strings"
)

// term is one unstructured search term. Plain terms and phrases match as
// case-sensitive substrings, which is what CloudWatch does in practice
// (ERROR matches "[ERROR]" and "ERRORS").
type term struct {
	lit string
	re  *regexp.Regexp
	all bool // a whitespace-only phrase, AWS's idiom for "every event"
}

func (t *term) in(msg string) bool {
	switch {
	case t.all:
		return true
	case t.re != nil:
		return t.re.MatchString(msg)
	}
	return strings.Contains(msg, t.lit)
}

// termsMatcher matches an unstructured pattern. optional is non-empty only
// when the pattern consists of '?' terms alone (see parseTerms).
type termsMatcher struct {
	required []term // all must occur
	excluded []term // none may occur
	optional []term // at least one must occur
}

// match allocates nothing: each term is a substring or regex test over msg.
func (m *termsMatcher) match(msg string) bool {
	for i := range m.required {
		if !m.required[i].in(msg) {
			return false
		}
	}
	for i := range m.excluded {
		if m.excluded[i].in(msg) {
			return false
		}
	}
	if len(m.optional) == 0 {
		return true
	}
	for i := range m.optional {
		if m.optional[i].in(msg) {
			return true
		}
	}
	return false
}
