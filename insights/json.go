package insights

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxJSONFields is how many fields are discovered in one JSON event, as
// the service's limit (200); the rest are not fields.
const MaxJSONFields = 200

// flattenJSON discovers the fields of a message that is a JSON object:
// nested objects flattened with dots (a.b.c), arrays by index (a.0). Only
// names in want are kept (all when want is nil); JSON null is no value.
// A message that is not a JSON object has no fields. It never fails: what
// it cannot read ends the discovery.
func flattenJSON(msg []byte, want map[string]string, out []kv) []kv {
	i := skipWS(msg, 0)
	if i >= len(msg) || msg[i] != '{' {
		return out
	}
	w := jwalk{b: msg, want: want, out: out, path: make([]byte, 0, 64)}
	w.value(i, 0)
	return w.out
}

type jwalk struct {
	b      []byte
	want   map[string]string // wanted name -> the same string, so that a kept field's name costs no allocation
	name   string            // the name of the leaf wanted() accepted
	out    []kv
	path   []byte
	leaves int
	bad    bool
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// value reads the value at i and returns the offset after it.
func (w *jwalk) value(i, depth int) int {
	i = skipWS(w.b, i)
	if i >= len(w.b) || depth > 64 {
		w.bad = true
		return len(w.b)
	}
	switch c := w.b[i]; {
	case c == '{':
		i = skipWS(w.b, i+1)
		if i < len(w.b) && w.b[i] == '}' {
			return i + 1
		}
		for !w.bad {
			i = skipWS(w.b, i)
			if i >= len(w.b) || w.b[i] != '"' {
				w.bad = true
				return len(w.b)
			}
			keyStart := len(w.path)
			if keyStart > 0 {
				w.path = append(w.path, '.')
			}
			raw, esc, j, ok := w.raw(i)
			if !ok {
				w.bad = true
				return len(w.b)
			}
			if esc {
				w.path = append(w.path, unescape(raw)...)
			} else {
				w.path = append(w.path, raw...)
			}
			i = j
			i = skipWS(w.b, i)
			if i >= len(w.b) || w.b[i] != ':' {
				w.bad = true
				return len(w.b)
			}
			i = w.value(i+1, depth+1)
			w.path = w.path[:keyStart]
			i = skipWS(w.b, i)
			if i < len(w.b) && w.b[i] == ',' {
				i++
				continue
			}
			if i < len(w.b) && w.b[i] == '}' {
				return i + 1
			}
			w.bad = true
		}
		return len(w.b)
	case c == '[':
		i = skipWS(w.b, i+1)
		if i < len(w.b) && w.b[i] == ']' {
			return i + 1
		}
		for n := 0; !w.bad; n++ {
			keyStart := len(w.path)
			if keyStart > 0 {
				w.path = append(w.path, '.')
			}
			w.path = strconv.AppendInt(w.path, int64(n), 10)
			i = w.value(i, depth+1)
			w.path = w.path[:keyStart]
			i = skipWS(w.b, i)
			if i < len(w.b) && w.b[i] == ',' {
				i++
				continue
			}
			if i < len(w.b) && w.b[i] == ']' {
				return i + 1
			}
			w.bad = true
		}
		return len(w.b)
	case c == '"':
		raw, esc, j, ok := w.raw(i)
		if !ok {
			w.bad = true
			return len(w.b)
		}
		if w.wanted() {
			if esc {
				w.emit(str(unescape(raw)))
			} else {
				w.emit(str(string(raw)))
			}
		}
		return j
	default:
		j := i
		for j < len(w.b) && !(w.b[j] == ',' || w.b[j] == '}' || w.b[j] == ']' || w.b[j] == ' ' || w.b[j] == '\n' || w.b[j] == '\t' || w.b[j] == '\r') {
			j++
		}
		tok := w.b[i:j]
		switch string(tok) {
		case "null":
			w.leaves++
		case "true", "false":
			if w.wanted() {
				w.emit(str(string(tok)))
			}
		default:
			if w.wanted() {
				s := string(tok)
				f, ok := parseNum(s)
				if !ok {
					w.bad = true
					return len(w.b)
				}
				w.emit(numText(f, s))
			}
		}
		return j
	}
}

// wanted reports whether the leaf at the current path is to be kept, and
// counts it against MaxJSONFields.
func (w *jwalk) wanted() bool {
	w.leaves++
	if w.leaves > MaxJSONFields {
		return false
	}
	if w.want == nil {
		w.name = string(w.path)
		return true
	}
	name, ok := w.want[string(w.path)]
	w.name = name
	return ok
}

func (w *jwalk) emit(v Value) { w.out = append(w.out, kv{w.name, v}) }

// raw returns the bytes of the JSON string at i, without its quotes, and
// whether it holds escapes.
func (w *jwalk) raw(i int) ([]byte, bool, int, bool) {
	b := w.b
	j := i + 1
	esc := false
	for j < len(b) && b[j] != '"' {
		if b[j] == '\\' {
			esc = true
			j++
		}
		j++
	}
	if j >= len(b) {
		return nil, false, len(b), false
	}
	return b[i+1 : j], esc, j + 1, true
}

func unescape(s []byte) string {
	out := make([]byte, 0, len(s))
	for k := 0; k < len(s); k++ {
		c := s[k]
		if c != '\\' || k+1 >= len(s) {
			out = append(out, c)
			continue
		}
		k++
		switch s[k] {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'u':
			if k+4 < len(s) {
				r, err := strconv.ParseUint(string(s[k+1:k+5]), 16, 32)
				if err == nil {
					k += 4
					ru := rune(r)
					if utf16.IsSurrogate(ru) && k+6 < len(s) && s[k+1] == '\\' && s[k+2] == 'u' {
						if r2, err := strconv.ParseUint(string(s[k+3:k+7]), 16, 32); err == nil {
							ru = utf16.DecodeRune(ru, rune(r2))
							k += 6
						}
					}
					out = utf8.AppendRune(out, ru)
					continue
				}
			}
			out = append(out, 'u')
		default:
			out = append(out, s[k])
		}
	}
	return string(out)
}
