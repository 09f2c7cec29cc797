package shipper

import (
	"encoding/json"
	"strconv"
	"strings"
	"unsafe"
)

// formatter turns one line into the message of one or more events.
type formatter struct {
	format          string
	instance, image string
	max             int // largest message in bytes
}

// partMarkRoom is what the part marker of a split line may take.
const partMarkRoom = 40

// split cuts line at rune boundaries into parts that each fit one event once
// formatted, each marked "part i/n" so that a reader can join them.
func (f *formatter) split(out []string, level, source, line string) []string {
	var parts []string
	if f.format == FormatText {
		for rest := line; rest != ""; {
			var p string
			p, rest = cutRunes(rest, f.max-partMarkRoom, rawCost)
			parts = append(parts, p)
		}
		for i, p := range parts {
			out = append(out, "[keel: part "+strconv.Itoa(i+1)+"/"+strconv.Itoa(len(parts))+"] "+p)
		}
		return out
	}
	room := f.max - len(f.envelope(nil, level, source, "", "")) - partMarkRoom
	for rest := line; rest != ""; {
		var p string
		p, rest = cutRunes(rest, room, jsonCost)
		parts = append(parts, p)
	}
	for i, p := range parts {
		out = append(out, string(f.envelope(nil, level, source, p, strconv.Itoa(i+1)+"/"+strconv.Itoa(len(parts)))))
	}
	return out
}

// envelope appends the Boxfuse-compatible event
// {"instance","image","level","message","source"} to b; empty instance,
// image and source are left out. part marks a piece of a split line.
func (f *formatter) envelope(b []byte, level, source, msg, part string) []byte {
	b = append(b, '{')
	if f.instance != "" {
		b = append(b, `"instance":`...)
		b = appendJSONString(b, f.instance)
		b = append(b, ',')
	}
	if f.image != "" {
		b = append(b, `"image":`...)
		b = appendJSONString(b, f.image)
		b = append(b, ',')
	}
	b = append(b, `"level":`...)
	b = appendJSONString(b, level)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, msg)
	if part != "" {
		b = append(b, `,"part":`...)
		b = appendJSONString(b, part)
	}
	if source != "" {
		b = append(b, `,"source":`...)
		b = appendJSONString(b, source)
	}
	return append(b, '}')
}

// object returns a line that is a JSON object with instance, image and level
// added at the front unless the object has them, so that filter patterns
// such as { $.requestId = "..." } work across services.
func (f *formatter) object(level, line string) string {
	line = strings.TrimSpace(line)
	has := topLevelKeys(line)
	b := make([]byte, 0, len(line)+len(f.instance)+len(f.image)+len(level)+40)
	b = append(b, '{')
	add := func(key, val string, present bool) {
		if present || val == "" {
			return
		}
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, `":`...)
		b = appendJSONString(b, val)
		b = append(b, ',')
	}
	add("instance", f.instance, has.instance)
	add("image", f.image, has.image)
	add("level", level, has.level)
	rest := strings.TrimLeft(line[1:], " \t\r\n")
	if rest == "}" && len(b) > 1 {
		b = b[:len(b)-1] // the object was empty: no comma before '}'
	}
	return string(append(b, rest...))
}

func isJSONObject(s string) bool {
	t := strings.TrimSpace(s)
	if len(t) < 2 || t[0] != '{' || t[len(t)-1] != '}' {
		return false
	}
	return json.Valid(unsafe.Slice(unsafe.StringData(t), len(t)))
}

type keysPresent struct{ instance, image, level bool }

// topLevelKeys finds which of the keys keel adds the valid JSON object s
// already has at its top level.
func topLevelKeys(s string) keysPresent {
	var k keysPresent
	depth := 0
	expectKey := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '{', '[':
			depth++
			expectKey = c == '{' && depth == 1
		case '}', ']':
			depth--
		case ',':
			expectKey = depth == 1 // inside the top-level object: a member follows
		case '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if depth == 1 && expectKey {
				switch s[i+1 : j] {
				case "instance":
					k.instance = true
				case "image":
					k.image = true
				case "level":
					k.level = true
				}
				expectKey = false
			}
			i = j
		}
	}
	return k
}

// appendJSONString appends s as a JSON string. s is valid UTF-8.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hex = "0123456789abcdef"

// jsonCost is the size of a rune once escaped by appendJSONString.
func jsonCost(r rune, size int) int {
	switch {
	case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t':
		return 2
	case r < 0x20:
		return 6
	}
	return size
}
