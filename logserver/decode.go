package logserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// decodeInput reads an operation's JSON input strictly: a member the
// operation does not define, a value of the wrong type or trailing garbage is
// a SerializationException that names the member, so a typo in a client is
// caught instead of silently changing the meaning of the request.
func decodeInput(op string, body []byte, into any) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		// Clients send "{}" for an empty input; tolerate an empty body too.
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(into); err != nil {
		return jsonError(op, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errSerialization("Malformed request body for %s: unexpected data after the JSON object; send exactly one JSON object", op)
	}
	return nil
}

func jsonError(op string, err error) *apiError {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return errSerialization("Malformed JSON in the request body for %s at byte offset %d: %v", op, syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return errSerialization("The request body for %s must be a JSON object, not a JSON %s", op, typ.Value)
		}
		return errSerialization("Value of member '%s' in %s has the wrong type: got a JSON %s, want %s", field, op, typ.Value, jsonKind(typ.Type.String()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errSerialization("Malformed JSON in the request body for %s: the body ends before the JSON object does", op)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return errSerialization("Unknown member %s in the request body for %s: remove it or check its spelling", name, op)
	}
	return errSerialization("Cannot read the request body for %s: %v", op, err)
}

// jsonKind names a Go type the way a client author thinks of the JSON value.
func jsonKind(goType string) string {
	switch {
	case strings.Contains(goType, "int"):
		return "an integer"
	case strings.Contains(goType, "bool"):
		return "a boolean"
	case strings.Contains(goType, "string") && strings.HasPrefix(goType, "map"):
		return "an object of strings"
	case strings.HasPrefix(goType, "[]") || strings.HasPrefix(goType, "*[]"):
		return "a list"
	case strings.Contains(goType, "string"):
		return "a string"
	}
	return "a JSON " + goType
}
