package shipper

import (
	"encoding/binary"
	"unicode/utf8"
	"unsafe"
)

// The request body is written by hand: a message is escaped straight into
// it, and a json event's envelope is escaped once per source, not per event.
// A message in the json format is itself JSON inside a JSON string, so its
// line is escaped twice (appendEscaped2).

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plainWord reports whether none of the 8 bytes of x needs escaping in a
// JSON string (control bytes, '"' and '\\'), with a few operations instead
// of 8 comparisons: the common log line has nothing to escape.
func plainWord(x uint64) bool {
	ctl := (x - 0x20*lsb) &^ x & msb // a byte below 0x20 (bytes >= 0x80 never match)
	q := x ^ ('"' * lsb)
	q = (q - lsb) &^ q & msb
	bs := x ^ ('\\' * lsb)
	bs = (bs - lsb) &^ bs & msb
	return ctl|q|bs == 0
}

// nextSpecial returns the index of the first byte of s at or after i that
// needs escaping, or len(s).
func nextSpecial(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		// Read the string's bytes in place: a conversion would copy them.
		if !plainWord(binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))) {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return i
		}
	}
	return i
}

// appendEscaped appends s, valid UTF-8, as the inside of a JSON string.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := nextSpecial(s, 0); i < len(s); i = nextSpecial(s, i+1) {
		b = append(b, s[start:i]...)
		b = appendEscapedByte(b, s[i])
		start = i + 1
	}
	return append(b, s[start:]...)
}

func appendEscapedByte(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
}

// appendEscaped2 appends s escaped twice: what s becomes as a string inside
// a JSON message that is itself a JSON string of the request. It returns the
// length of s escaped once, the size the message counts for.
func appendEscaped2(b []byte, s string) ([]byte, int) {
	once := len(s)
	start := 0
	var tmp [8]byte
	for i := nextSpecial(s, 0); i < len(s); i = nextSpecial(s, i+1) {
		b = append(b, s[start:i]...)
		e := appendEscapedByte(tmp[:0], s[i])
		once += len(e) - 1
		b = appendEscaped(b, string(e)) // e is ASCII: the second pass is exact
		start = i + 1
	}
	return append(b, s[start:]...), once
}

// escapedLen is the length of s escaped once.
func escapedLen(s string) int {
	n := len(s)
	for i := nextSpecial(s, 0); i < len(s); i = nextSpecial(s, i+1) {
		switch c := s[i]; {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
			n++
		default:
			n += 5
		}
	}
	return n
}

// fixUTF8 appends s to b with each invalid byte replaced by U+FFFD, as the
// service does, so that sizes count what the service counts.
func fixUTF8(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}
