package filterpattern

import (
	"math/rand/v2"
	"testing"
)

// naiveNextField is the straightforward field splitter: it scans ahead
// from every field for its closing quote or bracket. fieldScanner must
// split every message exactly as it does, only without the quadratic
// worst case.
func naiveNextField(msg string, pos int) (v string, start, end int, ok bool) {
	for pos < len(msg) && isSpace(msg[pos]) {
		pos++
	}
	if pos >= len(msg) {
		return "", pos, pos, false
	}
	switch msg[pos] {
	case '"':
		for j := pos + 1; j < len(msg); j++ {
			if msg[j] == '\\' {
				j++
			} else if msg[j] == '"' {
				return msg[pos+1 : j], pos, j + 1, true
			}
		}
	case '[':
		depth := 0
		for j := pos; j < len(msg); j++ {
			switch msg[j] {
			case '[':
				depth++
			case ']':
				if depth--; depth == 0 {
					return msg[pos+1 : j], pos, j + 1, true
				}
			}
		}
	}
	end = pos
	for end < len(msg) && !isSpace(msg[end]) {
		end++
	}
	return msg[pos:end], pos, end, true
}

// TestFieldScannerSplitsLikeNaive compares the two splitters on random
// messages dense in quotes, brackets and backslashes, including the
// unclosed ones that make fieldScanner remember its brackets.
func TestFieldScannerSplitsLikeNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = `[[]]"\ a`
	for range 20000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		msg := string(b)
		fs := fieldScanner{msg: msg}
		for pos := 0; ; {
			v, start, end, ok := fs.next(pos)
			nv, nstart, nend, nok := naiveNextField(msg, pos)
			if v != nv || start != nstart || end != nend || ok != nok {
				t.Fatalf("message %q at %d: got %q %d %d %v, want %q %d %d %v", msg, pos, v, start, end, ok, nv, nstart, nend, nok)
			}
			if !ok {
				break
			}
			pos = end
		}
	}
}
