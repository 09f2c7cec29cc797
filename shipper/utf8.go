package shipper

import "unicode/utf8"

// cutRunes returns the longest prefix of s whose cost is at most budget, cut
// at a rune boundary; cost gives the bytes a rune takes once encoded. It
// always takes at least one rune so that splitting makes progress.
func cutRunes(s string, budget int, cost func(r rune, size int) int) (head, tail string) {
	used := 0
	for i, r := range s {
		size := utf8.RuneLen(r)
		if size < 0 {
			size = 3
		}
		c := cost(r, size)
		if used+c > budget && i > 0 {
			return s[:i], s[i:]
		}
		used += c
	}
	return s, ""
}

func rawCost(_ rune, size int) int { return size }
