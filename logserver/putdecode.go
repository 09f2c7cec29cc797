package logserver

import (
	"encoding/binary"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// decodePutFast decodes the common shape of a PutLogEvents body in a single
// pass without reflection: a flat object of the known string members and a
// logEvents array of {timestamp, message} objects. Ingest is bound by JSON
// decoding, and encoding/json scans every byte twice and allocates per
// member. Anything unusual (nulls, unknown or duplicate members, floats,
// entity, malformed JSON) returns false, and the caller decodes with the
// strict decoder, which also writes the error messages: the fast path never
// accepts what the strict one would refuse, and yields the same values
// (FuzzPutDecodeFast checks both).
func decodePutFast(b []byte, in *putLogEventsInput) bool {
	p := fastParser{b: b}
	if !p.expect('{') {
		return false
	}
	var seenGroup, seenStream, seenEvents, seenToken bool
	for first := true; ; first = false {
		p.ws()
		if p.peek() == '}' && first {
			p.i++
			break
		}
		if !first {
			switch p.next() {
			case ',':
				p.ws()
			case '}':
				goto done
			default:
				return false
			}
		}
		key, ok := p.key()
		if !ok || !p.expect(':') {
			return false
		}
		p.ws()
		switch string(key) {
		case "logGroupName", "logStreamName", "sequenceToken":
			v, ok := p.str()
			if !ok {
				return false
			}
			var dst **string
			var seen *bool
			switch string(key) {
			case "logGroupName":
				dst, seen = &in.LogGroupName, &seenGroup
			case "logStreamName":
				dst, seen = &in.LogStreamName, &seenStream
			default:
				dst, seen = &in.SequenceToken, &seenToken
			}
			if *seen {
				return false
			}
			*seen = true
			*dst = &v
		case "logEvents":
			if seenEvents {
				return false
			}
			seenEvents = true
			evs, ok := p.events()
			if !ok {
				return false
			}
			in.LogEvents = &evs
		default:
			return false
		}
	}
done:
	p.ws()
	return p.i == len(p.b)
}

type fastParser struct {
	b       []byte
	i       int
	scratch []byte // strSlow's, reused from string to string
}

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *fastParser) next() byte {
	p.ws()
	if p.i < len(p.b) {
		p.i++
		return p.b[p.i-1]
	}
	return 0
}

func (p *fastParser) expect(c byte) bool { return p.next() == c }

// events parses the logEvents array.
func (p *fastParser) events() ([]inputLogEvent, bool) {
	if !p.expect('[') {
		return nil, false
	}
	// Preallocate from a cheap estimate: events are at least ~30 bytes.
	n := min(10001, (len(p.b)-p.i)/64+1)
	evs := make([]inputLogEvent, 0, n)
	p.ws()
	if p.peek() == ']' {
		p.i++
		return evs, true
	}
	// The events' values live in one slab, not two allocations per event.
	slab := make([]eventValues, n)
	for {
		if len(slab) == 0 {
			slab = make([]eventValues, n)
		}
		ev, ok := p.event(&slab[0])
		slab = slab[1:]
		if !ok {
			return nil, false
		}
		evs = append(evs, ev)
		switch p.next() {
		case ',':
		case ']':
			return evs, true
		default:
			return nil, false
		}
	}
}

// eventValues holds what an inputLogEvent's pointers point to.
type eventValues struct {
	ts  int64
	msg string
}

// event parses one event, its values kept in v.
func (p *fastParser) event(v *eventValues) (inputLogEvent, bool) {
	var ev inputLogEvent
	if !p.expect('{') {
		return ev, false
	}
	for first := true; ; first = false {
		if !first {
			switch p.next() {
			case ',':
			case '}':
				return ev, ev.Timestamp != nil && ev.Message != nil
			default:
				return ev, false
			}
		}
		p.ws()
		key, ok := p.key()
		if !ok || !p.expect(':') {
			return ev, false
		}
		p.ws()
		switch {
		case string(key) == "timestamp" && ev.Timestamp == nil:
			if v.ts, ok = p.int(); !ok {
				return ev, false
			}
			ev.Timestamp = &v.ts
		case string(key) == "message" && ev.Message == nil:
			if v.msg, ok = p.str(); !ok {
				return ev, false
			}
			ev.Message = &v.msg
		default:
			return ev, false
		}
	}
}

// int parses a JSON integer that fits an int64.
func (p *fastParser) int() (int64, bool) {
	start := p.i
	if p.peek() == '-' {
		p.i++
	}
	digits := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	if p.i == digits || (p.b[digits] == '0' && p.i-digits > 1) {
		return 0, false
	}
	if c := p.peek(); c == '.' || c == 'e' || c == 'E' {
		return 0, false
	}
	n, err := strconv.ParseInt(string(p.b[start:p.i]), 10, 64)
	return n, err == nil
}

// key returns a member name as it stands in the body, without allocating;
// one with escapes or control characters is left to the strict decoder.
func (p *fastParser) key() ([]byte, bool) {
	if p.peek() != '"' {
		return nil, false
	}
	p.i++
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			return p.b[start : p.i-1], true
		case c == '\\' || c < ' ':
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// str parses a JSON string with encoding/json's semantics: escapes decoded,
// invalid UTF-8 and lone surrogates replaced with U+FFFD.
func (p *fastParser) str() (string, bool) {
	if p.peek() != '"' {
		return "", false
	}
	p.i++
	start := p.i
	ascii := true
	for p.i < len(p.b) {
		p.i = plainRun(p.b, p.i)
		if p.i >= len(p.b) {
			break
		}
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if !ascii && !utf8.Valid(s) {
				return string(coerceUTF8(s)), true
			}
			return string(s), true
		case c == '\\':
			return p.strSlow(start)
		case c < ' ':
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		p.i++
	}
	return "", false
}

// strSlow decodes a string holding escapes, from start (after the quote);
// p.i is at the first backslash. It decodes into the parser's scratch
// buffer, copying runs rather than bytes, and makes one string of the
// result: in keel's json format every message is an object full of
// escaped quotes, and this was most of the server's ingest time.
func (p *fastParser) strSlow(start int) (string, bool) {
	out := p.scratch[:0]
	defer func() { p.scratch = out[:0] }()
	run := start
	for p.i < len(p.b) {
		p.i = plainRun(p.b, p.i)
		if p.i >= len(p.b) {
			break
		}
		c := p.b[p.i]
		if c != '"' && c != '\\' && c >= ' ' {
			p.i++ // a byte of UTF-8: checked as a whole at the end
			continue
		}
		out = append(out, p.b[run:p.i]...)
		switch {
		case c == '"':
			p.i++
			if !utf8.Valid(out) {
				return "", false // raw invalid bytes among escapes: let the strict path decide
			}
			return string(out), true
		case c < ' ':
			return "", false
		}
		if p.i+1 >= len(p.b) {
			return "", false
		}
		e := p.b[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(p.b[p.i:])
			if !ok {
				return "", false
			}
			p.i += 4
			if r1 := r; utf16.IsSurrogate(r1) {
				r = unicode.ReplacementChar // unless a pair's second half follows
				if len(p.b)-p.i >= 6 && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
					if r2, ok := hex4(p.b[p.i+2:]); ok {
						if d := utf16.DecodeRune(r1, r2); d != unicode.ReplacementChar {
							p.i += 6
							r = d
						}
					}
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", false
		}
		run = p.i
	}
	return "", false
}

// plainRun returns the index of the first byte from i on that a string
// cannot simply copy: a quote, a backslash, a control character or a byte
// of multi-byte UTF-8; len(b) if none. Eight bytes at a time while none is
// (the bit tricks of "Bit Twiddling Hacks": haszero and hasless), since
// messages are mostly long runs of plain text.
func plainRun(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		q := w ^ (ones * '"')
		bs := w ^ (ones * '\\')
		if ((q-ones)&^q|(bs-ones)&^bs|(w-ones*' ')&^w|w)&highs != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < ' ' || c >= utf8.RuneSelf {
			return i
		}
	}
	return i
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// coerceUTF8 replaces each invalid byte with U+FFFD, as encoding/json does.
func coerceUTF8(s []byte) []byte {
	out := make([]byte, 0, len(s)+16)
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		out = utf8.AppendRune(out, r)
		s = s[n:]
	}
	return out
}
