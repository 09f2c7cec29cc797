package bootcfg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Reading the file without reflection. encoding/json's Unmarshal builds
// its per-type decoders by reflection on first use: 15 of the 21 to 28 ms
// the configuration step cost a TCG guest's boot (docs/lean-init.md). The
// file is small and its schema fixed, so the init walks its tokens instead
// (json.Decoder.Token: the same scanner, no reflection). The result and
// the errors are encoding/json's: TestDecodeMatchesEncodingJSON compares
// the two on every test file, and Marshal stays encoding/json's.

// decodeFile reads the one JSON object of file into c: unknown keys and
// values of the wrong type are errors naming the key, null leaves a value
// unset, and anything after the object is an error.
func decodeFile(file []byte, c *Config) error {
	dec := json.NewDecoder(bytes.NewReader(file))
	dec.UseNumber()
	r := &tokens{dec: dec, strct: "Config"}
	err := r.object(configKeys, func(key string) error {
		switch key {
		case "app":
			return r.str(key, &c.App)
		case "args":
			return r.strs(key, &c.Args)
		case "env":
			return r.strs(key, &c.Env)
		case "dir":
			return r.str(key, &c.Dir)
		case "user":
			return r.str(key, &c.User)
		case "group":
			return r.str(key, &c.Group)
		case "restart":
			return r.str(key, &c.Restart)
		case "modules":
			return r.strs(key, &c.Modules)
		case "net":
			return r.str(key, &c.Net)
		case "logs":
			return r.logs(key, &c.Logs)
		case "grace":
			return r.duration(key, &c.Grace)
		case "flush_timeout":
			return r.duration(key, &c.FlushTimeout)
		case "halt":
			return r.str(key, &c.Halt)
		case "wait":
			return r.str(key, &c.Wait)
		case "rlimits":
			return r.strMap(key, &c.Rlimits)
		case "app_disk":
			return r.appDisk(key, &c.AppDisk)
		}
		return fmt.Errorf("json: unknown field %q", key)
	})
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(file[dec.InputOffset():])) > 0 {
		return fmt.Errorf("more after the configuration's closing brace: the file must hold one JSON object")
	}
	return nil
}

func (r *tokens) logs(key string, p **Logs) error {
	if null, err := r.null(); null || err != nil {
		if null {
			*p = nil
		}
		return err
	}
	if r.peeked != json.Delim('{') {
		r.hasPeek = false
		return r.typeErr(key, kind(r.peeked), reflect.TypeFor[Logs]())
	}
	if *p == nil {
		*p = &Logs{}
	}
	l := *p
	// encoding/json names a nested field by its path in the inner struct.
	outer, prefix := r.strct, r.prefix
	r.strct, r.prefix = "Logs", key+"."
	defer func() { r.strct, r.prefix = outer, prefix }()
	return r.object(logsKeys, func(key string) error {
		switch key {
		case "group":
			return r.str(key, &l.Group)
		case "stream":
			return r.str(key, &l.Stream)
		case "region":
			return r.str(key, &l.Region)
		case "endpoint":
			return r.str(key, &l.Endpoint)
		case "format":
			return r.str(key, &l.Format)
		case "image":
			return r.str(key, &l.Image)
		case "retention":
			var n int64
			if err := r.integer(key, &n, -1<<31, 1<<31-1, reflect.TypeFor[int32]()); err != nil {
				return err
			}
			l.Retention = int32(n)
			return nil
		case "credentials":
			return r.str(key, &l.Credentials)
		case "redact_off":
			return r.strs(key, &l.RedactOff)
		case "redact":
			return r.strs(key, &l.Redact)
		case "multiline":
			return r.str(key, &l.Multiline)
		case "event_max":
			var n int64
			if err := r.integer(key, &n, -1<<63, 1<<63-1, reflect.TypeFor[int]()); err != nil {
				return err
			}
			l.EventMax = int(n)
			return nil
		}
		return fmt.Errorf("json: unknown field %q", key)
	})
}

func (r *tokens) appDisk(key string, p **AppDisk) error {
	if null, err := r.null(); null || err != nil {
		if null {
			*p = nil
		}
		return err
	}
	if r.peeked != json.Delim('{') {
		r.hasPeek = false
		return r.typeErr(key, kind(r.peeked), reflect.TypeFor[AppDisk]())
	}
	if *p == nil {
		*p = &AppDisk{}
	}
	d := *p
	outer, prefix := r.strct, r.prefix
	r.strct, r.prefix = "AppDisk", key+"."
	defer func() { r.strct, r.prefix = outer, prefix }()
	return r.object(appDiskKeys, func(key string) error {
		switch key {
		case "fs":
			return r.str(key, &d.FS)
		case "serial":
			return r.str(key, &d.Serial)
		case "partname":
			return r.str(key, &d.PartName)
		case "size":
			return r.integer(key, &d.Size, -1<<63, 1<<63-1, reflect.TypeFor[int64]())
		case "modules":
			return r.strs(key, &d.Modules)
		case "writable":
			return r.strs(key, &d.Writable)
		case "overlay_mb":
			var n int64
			if err := r.integer(key, &n, -1<<63, 1<<63-1, reflect.TypeFor[int]()); err != nil {
				return err
			}
			d.OverlayMB = int(n)
			return nil
		}
		return fmt.Errorf("json: unknown field %q", key)
	})
}

// tokens reads values of a known schema from a decoder's tokens.
type tokens struct {
	dec     *json.Decoder
	strct   string // the struct whose fields are being read, for errors
	prefix  string // the path of that struct's key, for errors
	peeked  json.Token
	hasPeek bool
}

// The keys of Config and Logs, as their json tags name them.
var (
	configKeys = []string{"app", "args", "env", "dir", "user", "group", "restart", "modules", "net", "logs",
		"grace", "flush_timeout", "halt", "wait", "rlimits", "app_disk"}
	logsKeys = []string{"group", "stream", "region", "endpoint", "format", "image", "retention", "credentials",
		"redact_off", "redact", "multiline", "event_max"}
	appDiskKeys = []string{"fs", "serial", "partname", "size", "modules", "writable", "overlay_mb"}
)

// fieldOf is the key of known that key names: itself, or, as
// encoding/json matches them, one equal under Unicode case folding.
func fieldOf(key string, known []string) string {
	for _, k := range known {
		if k == key {
			return k
		}
	}
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return k
		}
	}
	return key
}

// object reads {"key": value, ...}, calling field for each key (one of
// known, when it names one) with the decoder before its value.
func (r *tokens) object(known []string, field func(key string) error) error {
	t, err := r.next()
	if err != nil {
		return err
	}
	if t != json.Delim('{') { // the top level: nested objects are checked by their readers
		return &json.UnmarshalTypeError{Value: kind(t), Type: reflect.TypeFor[Config]()}
	}
	for r.dec.More() {
		t, err := r.dec.Token()
		if err != nil {
			return err
		}
		key, _ := t.(string) // the decoder refuses a key that is not a string
		if err := field(fieldOf(key, known)); err != nil {
			return err
		}
	}
	_, err = r.dec.Token() // '}'
	return err
}

// null reports a null value, which it consumes.
func (r *tokens) null() (bool, error) {
	if !r.dec.More() {
		return false, nil
	}
	// Peeking is not in the API: read the value and keep it for the
	// caller when it is not null.
	t, err := r.dec.Token()
	if err != nil {
		return false, err
	}
	if t == nil {
		return true, nil
	}
	r.peeked, r.hasPeek = t, true
	return false, nil
}

func (r *tokens) next() (json.Token, error) {
	if r.hasPeek {
		r.hasPeek = false
		return r.peeked, nil
	}
	return r.dec.Token()
}

func (r *tokens) str(key string, p *string) error {
	t, err := r.next()
	if err != nil {
		return err
	}
	switch v := t.(type) {
	case nil:
		return nil
	case string:
		*p = v
		return nil
	}
	return r.skipTypeErr(key, t, reflect.TypeFor[string]())
}

func (r *tokens) strs(key string, p *[]string) error {
	t, err := r.next()
	if err != nil {
		return err
	}
	if t == nil {
		*p = nil
		return nil
	}
	if t != json.Delim('[') {
		return r.skipTypeErr(key, t, reflect.TypeFor[[]string]())
	}
	out := []string{}
	for r.dec.More() {
		t, err := r.dec.Token()
		if err != nil {
			return err
		}
		s, ok := t.(string)
		if !ok && t != nil {
			return r.skipTypeErr(key, t, reflect.TypeFor[string]())
		}
		out = append(out, s)
	}
	if _, err := r.dec.Token(); err != nil { // ']'
		return err
	}
	*p = out
	return nil
}

func (r *tokens) strMap(key string, p *map[string]string) error {
	t, err := r.next()
	if err != nil {
		return err
	}
	if t == nil {
		*p = nil
		return nil
	}
	if t != json.Delim('{') {
		return r.skipTypeErr(key, t, reflect.TypeFor[map[string]string]())
	}
	if *p == nil {
		*p = map[string]string{}
	}
	for r.dec.More() {
		k, err := r.dec.Token()
		if err != nil {
			return err
		}
		v, err := r.dec.Token()
		if err != nil {
			return err
		}
		s, ok := v.(string)
		if !ok && v != nil {
			return r.skipTypeErr(key, v, reflect.TypeFor[string]())
		}
		(*p)[k.(string)] = s
	}
	_, err = r.dec.Token() // '}'
	return err
}

func (r *tokens) integer(key string, p *int64, lo, hi int64, typ reflect.Type) error {
	t, err := r.next()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	n, ok := t.(json.Number)
	if !ok {
		return r.skipTypeErr(key, t, typ)
	}
	v, err := n.Int64()
	if err != nil || v < lo || v > hi {
		return r.typeErr(key, "number "+n.String(), typ)
	}
	*p = v
	return nil
}

// duration reads a Duration through its UnmarshalJSON, from the value's
// text as written (null and every type included, as encoding/json does).
func (r *tokens) duration(key string, p *Duration) error {
	var raw json.RawMessage
	if err := r.dec.Decode(&raw); err != nil {
		return err
	}
	if err := p.UnmarshalJSON(raw); err != nil {
		if te, ok := err.(*json.UnmarshalTypeError); ok {
			te.Struct, te.Field = r.strct, r.prefix+key
		}
		return err
	}
	return nil
}

// skipTypeErr is the error of a value of the wrong type.
func (r *tokens) skipTypeErr(key string, t json.Token, typ reflect.Type) error {
	return r.typeErr(key, kind(t), typ)
}

func (r *tokens) typeErr(key, value string, typ reflect.Type) error {
	return &json.UnmarshalTypeError{Value: value, Type: typ, Struct: r.strct, Field: r.prefix + key}
}

// kind names a token as encoding/json's type errors do.
func kind(t any) string {
	switch v := t.(type) {
	case bool:
		return "bool"
	case json.Number:
		return "number"
	case string:
		return "string"
	case json.Delim:
		if v == '[' {
			return "array"
		}
		return "object"
	}
	return fmt.Sprint(t)
}
