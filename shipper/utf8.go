package shipper

import (
	"strings"
	"unicode/utf8"
)

// validUTF8 replaces each invalid byte of s with U+FFFD, as the service does,
// so that the size counted for a batch is the size the service counts (3
// bytes per invalid byte). Valid input is returned as is, without allocating.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

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
