package filterpattern

import "strings"

// glob is a compiled '*' wildcard pattern that must match a whole string:
// the literal pieces around the stars. segs has one element when there is
// no star (plain equality) and len(stars)+1 elements otherwise.
//
// Matching takes the first piece as a prefix, the last as a suffix, and
// finds each middle piece at its leftmost position after the previous one.
// Taking the leftmost occurrence is always safe, because a star can absorb
// whatever lies between pieces, so there is no backtracking: the work is
// bounded by one forward scan per piece, never exponential.
type glob struct {
	segs []string
}

// newGlob builds a glob from the pieces between stars, dropping the empty
// middle pieces that "**" produces.
func newGlob(segs []string) glob {
	if len(segs) <= 2 {
		return glob{segs: segs}
	}
	out := []string{segs[0]}
	for _, s := range segs[1 : len(segs)-1] {
		if s != "" {
			out = append(out, s)
		}
	}
	return glob{segs: append(out, segs[len(segs)-1])}
}

// onlyStars reports a glob made of wildcards alone, which matches any value.
func onlyStars(segs []string) bool {
	if len(segs) < 2 {
		return false
	}
	for _, s := range segs {
		if s != "" {
			return false
		}
	}
	return true
}

func (g glob) match(s string) bool {
	segs := g.segs
	if len(segs) == 1 {
		return s == segs[0]
	}
	first, last := segs[0], segs[len(segs)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, seg := range segs[1 : len(segs)-1] {
		i := strings.Index(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
	}
	return true
}
