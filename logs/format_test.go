package logs

import (
	"strings"
	"testing"
	"time"
)

// TestFormatShowsControlCharacters: a message's newlines and escape
// sequences are shown escaped in the human formats, never sent raw to the
// reader's terminal; JSON output keeps the message as it is (encoded).
func TestFormatShowsControlCharacters(t *testing.T) {
	cases := []struct {
		msg, want string
		textOnly  bool // short shows a JSON message as it is: escaped already
	}{
		{"plain\ttabbed", "plain\ttabbed", false},
		{"two\nlines\r\n", `two\nlines`, false},
		{"\x1b[2J\x1b]0;owned\x07title", `\x1b[2J\x1b]0;owned\x07title`, false},
		{"c1 \u009b31m", `c1 \x9b31m`, false},
		{`{"level":"ERROR","message":"red \u001b[31m"}`, `red \x1b[31m`, true},
	}
	for _, format := range []string{"text", "short"} {
		for _, tc := range cases {
			if tc.textOnly && format != "text" {
				continue
			}
			var b strings.Builder
			f := &Formatter{W: &b, Format: format}
			if err := f.Write(Event{Timestamp: time.Now().UnixMilli(), Message: tc.msg}); err != nil {
				t.Fatal(err)
			}
			out := strings.TrimSuffix(b.String(), "\n")
			if !strings.Contains(out, tc.want) || strings.IndexFunc(out, isControl) >= 0 {
				t.Errorf("%s: %q printed as %q, want %q in it and no control characters", format, tc.msg, out, tc.want)
			}
		}
	}
}
