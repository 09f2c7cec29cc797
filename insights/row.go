package insights

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// Event is one log event offered to a query. Message may alias a buffer
// that is reused after the call: the engine copies what it keeps.
type Event struct {
	Timestamp     int64
	IngestionTime int64
	Message       []byte
	Group         string
	// Log is @log: the service shows ACCOUNT:GROUP. Empty: Group.
	Log      string
	Stream   string
	StreamID uint64
	Seq      uint64
}

type kv struct {
	name string
	v    Value
}

// Row is an event on its way through a query, or a row made by stats.
type Row struct {
	ev      Event
	msg     string // ev.Message as a string, once needed
	hasMsg  bool
	set     []kv // fields assigned by fields, parse and stats; the last wins
	agg     bool // made by stats: only set holds fields
	json    []kv
	parsed  bool
	want    map[string]string // JSON fields worth extracting (name -> name); nil = all
	seen    int               // arrival order, for earliest/latest without @timestamp
	aggVals []Value           // while stats computes its outputs: the aggregates' values
}

func (r *Row) message() string {
	if !r.hasMsg {
		r.msg = string(r.ev.Message)
		r.hasMsg = true
	}
	return r.msg
}

// get returns a field's value, null when the row has no such field.
func (r *Row) get(name string) Value {
	for i := len(r.set) - 1; i >= 0; i-- {
		if r.set[i].name == name {
			return r.set[i].v
		}
	}
	if r.agg {
		return null
	}
	if len(name) > 0 && name[0] == '@' {
		switch name {
		case "@timestamp":
			return timeMs(float64(r.ev.Timestamp))
		case "@message":
			return str(r.message())
		case "@logStream":
			return str(r.ev.Stream)
		case "@log":
			if r.ev.Log != "" {
				return str(r.ev.Log)
			}
			return str(r.ev.Group)
		case "@ingestionTime":
			return timeMs(float64(r.ev.IngestionTime))
		case "@ptr":
			return str(EncodePtr(r.ev.Group, r.ev.StreamID, r.ev.Seq, r.ev.Timestamp))
		}
	}
	if !r.parsed {
		r.parsed = true
		r.json = flattenJSON(r.ev.Message, r.want, r.json[:0])
	}
	for i := range r.json {
		if r.json[i].name == name {
			return r.json[i].v
		}
	}
	return null
}

// assign sets a field, replacing an earlier assignment of the same name.
func (r *Row) assign(name string, v Value) {
	for i := range r.set {
		if r.set[i].name == name {
			r.set[i].v = v
			return
		}
	}
	r.set = append(r.set, kv{name, v})
}

// detach returns a copy of r that owns its memory, for rows a query keeps.
func (r *Row) detach() *Row {
	c := &Row{ev: r.ev, agg: r.agg, want: r.want, seen: r.seen}
	if !r.agg {
		if !r.parsed {
			// Extract now: the message is copied anyway, and later stages
			// then never parse again.
			r.get("\x00")
		}
		c.msg = r.message()
		c.hasMsg = true
		c.ev.Message = nil
		c.parsed = true
		c.json = append([]kv(nil), r.json...)
	}
	c.set = append([]kv(nil), r.set...)
	return c
}

// reset prepares a reused row for the next event.
func (r *Row) reset(ev *Event) {
	r.ev = *ev
	r.hasMsg = false
	r.msg = ""
	r.set = r.set[:0]
	r.parsed = false
	r.json = r.json[:0]
}

// EncodePtr makes an @ptr: an opaque reference to one event that
// GetLogRecord resolves.
func EncodePtr(group string, streamID, seq uint64, ts int64) string {
	b := make([]byte, 0, len(group)+40)
	b = strconv.AppendUint(b, streamID, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, '.')
	b = append(b, group...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ErrBadPtr is a @ptr that EncodePtr did not make.
var ErrBadPtr = errors.New("not a log record pointer (@ptr) of this server")

// DecodePtr reads an @ptr back.
func DecodePtr(ptr string) (group string, streamID, seq uint64, ts int64, err error) {
	b, err := base64.RawURLEncoding.DecodeString(ptr)
	if err != nil {
		return "", 0, 0, 0, ErrBadPtr
	}
	parts := strings.SplitN(string(b), ".", 4)
	if len(parts) != 4 {
		return "", 0, 0, 0, ErrBadPtr
	}
	var e1, e2, e3 error
	streamID, e1 = strconv.ParseUint(parts[0], 10, 64)
	seq, e2 = strconv.ParseUint(parts[1], 10, 64)
	ts, e3 = strconv.ParseInt(parts[2], 10, 64)
	if e1 != nil || e2 != nil || e3 != nil || parts[3] == "" {
		return "", 0, 0, 0, ErrBadPtr
	}
	return parts[3], streamID, seq, ts, nil
}

// DiscoverFields returns the fields a JSON message gives (flattened with
// dots, arrays by index), as a query sees them.
func DiscoverFields(msg []byte) []Field {
	var out []Field
	for _, f := range flattenJSON(msg, nil, nil) {
		out = append(out, Field{f.name, f.v.String()})
	}
	return out
}
