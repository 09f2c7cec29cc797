package logs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Formatter renders events for people (text, short) or scripts (json).
type Formatter struct {
	W      io.Writer
	Format string // text, short or json
	Color  bool   // ANSI colours for levels (text only; set for terminals)
	UTC    bool
	// Level keeps events at or above this level ("" keeps all); Instance
	// keeps the events of one instance. Both read the JSON members that
	// keel's shipper writes.
	Level    string
	Instance string
}

// Formats lists the valid Format values.
var Formats = []string{"text", "short", "json"}

// levelRank orders the levels of common loggers: keel's shipper, syslog's
// (err, crit, alert, emerg), zap's (dpanic, panic), java.util.logging's
// severe. Keep shows a level missing here whatever -level says: ranked
// lowest, an app's own most severe level would be hidden.
var levelRank = map[string]int{"TRACE": 0, "DEBUG": 1, "INFO": 2, "NOTICE": 3, "WARN": 4, "WARNING": 4,
	"ERROR": 5, "ERR": 5, "SEVERE": 5,
	"CRITICAL": 6, "CRIT": 6, "FATAL": 6, "PANIC": 6, "DPANIC": 6, "ALERT": 6, "EMERG": 6, "EMERGENCY": 6}

// fields are the members of a shipper-written JSON message.
type fields struct {
	obj      map[string]json.RawMessage
	level    string
	instance string
	message  string
	hasMsg   bool
}

func parseFields(msg string) fields {
	var f fields
	t := strings.TrimSpace(msg)
	if !strings.HasPrefix(t, "{") {
		return f
	}
	if err := json.Unmarshal([]byte(t), &f.obj); err != nil {
		f.obj = nil
		return f
	}
	str := func(k string) string {
		var s string
		if raw, ok := f.obj[k]; ok {
			_ = json.Unmarshal(raw, &s)
		}
		return s
	}
	f.level, f.instance = strings.ToUpper(str("level")), str("instance")
	if raw, ok := f.obj["message"]; ok && json.Unmarshal(raw, &f.message) == nil {
		f.hasMsg = true
	}
	return f
}

// Keep reports whether e passes the Level and Instance filters.
func (f *Formatter) Keep(e Event) bool {
	if f.Level == "" && f.Instance == "" {
		return true
	}
	fl := parseFields(e.Message)
	if f.Instance != "" && fl.instance != f.Instance {
		return false
	}
	if f.Level != "" {
		lvl := fl.level
		if lvl == "" {
			lvl = "INFO"
		}
		if rank, known := levelRank[lvl]; known && rank < levelRank[strings.ToUpper(f.Level)] {
			return false
		}
	}
	return true
}

// Write renders one event.
func (f *Formatter) Write(e Event) error {
	ts := time.UnixMilli(e.Timestamp)
	if f.UTC {
		ts = ts.UTC()
	}
	var err error
	switch f.Format {
	case "json":
		var b []byte
		b, err = json.Marshal(struct {
			Time          string `json:"time"`
			Timestamp     int64  `json:"timestamp"`
			IngestionTime int64  `json:"ingestionTime"`
			Group         string `json:"group"`
			Stream        string `json:"stream"`
			EventID       string `json:"eventId,omitempty"`
			Message       string `json:"message"`
		}{ts.Format(time.RFC3339Nano), e.Timestamp, e.IngestionTime, e.Group, e.Stream, e.ID, e.Message})
		if err == nil {
			_, err = fmt.Fprintf(f.W, "%s\n", b)
		}
	case "short":
		_, err = fmt.Fprintf(f.W, "%s %s\n", ts.Format("15:04:05.000"), oneLine(e.Message))
	default:
		_, err = fmt.Fprintln(f.W, f.text(ts, e))
	}
	return err
}

func (f *Formatter) text(ts time.Time, e Event) string {
	fl := parseFields(e.Message)
	level, msg := fl.level, oneLine(e.Message)
	switch {
	case fl.hasMsg:
		msg = oneLine(fl.message)
		// Members other than the envelope stay visible, compactly.
		rest := map[string]json.RawMessage{}
		for k, v := range fl.obj {
			switch k {
			case "message", "level", "instance", "image", "source":
			default:
				rest[k] = v
			}
		}
		if len(rest) > 0 {
			b, _ := json.Marshal(rest)
			msg += " " + string(b)
		}
	case fl.obj != nil:
		var buf bytes.Buffer
		if json.Compact(&buf, []byte(strings.TrimSpace(e.Message))) == nil {
			msg = buf.String()
		}
	}
	if level == "" {
		level = "-"
	}
	lv := fmt.Sprintf("%-5s", level)
	if f.Color {
		lv = colorFor(level) + lv + "\x1b[0m"
	}
	inst := ""
	if fl.instance != "" {
		inst = fl.instance + " "
	}
	return fmt.Sprintf("%s %s %s%s", ts.Format("2006-01-02 15:04:05.000"), lv, inst, msg)
}

func colorFor(level string) string {
	switch levelRank[level] {
	case 5, 6:
		return "\x1b[31m" // red
	case 4:
		return "\x1b[33m" // yellow
	case 0, 1:
		return "\x1b[2m" // dim
	}
	return "\x1b[32m" // green
}

// oneLine keeps one event on one line: a trailing newline goes, inner ones
// are shown as \n.
func oneLine(s string) string {
	s = strings.TrimRight(s, "\r\n")
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	// Newlines would break the one-line layout, and escape sequences in a
	// message (anyone who may write logs writes them) would drive the
	// reader's terminal: both are shown, not obeyed.
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case isControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isControl: the C0 and C1 control characters and DEL, but tab.
func isControl(r rune) bool {
	return r < 0x20 && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0
}
