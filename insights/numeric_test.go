package insights

import (
	"context"
	"strings"
	"testing"
)

// TestNumericArgsExtreme: numbers at the edge of int64 (and beyond) given
// to the functions taking counts, positions or durations give a value, a
// null or a CompileError, never a panic (a panic in a query killed
// `keel logserver`).
func TestNumericArgsExtreme(t *testing.T) {
	msg := strings.Repeat("x", 2000)
	tests := []struct {
		q    string
		want string // the rendered row; "" when the query must not compile
	}{
		{`fields substr(@message, 1500, 9223372036854774784) as s | fields strlen(s) as n | display n`, "n=500"},
		{`fields substr(@message, 1500, 1e300) as s | fields strlen(s) as n | display n`, "n=500"},
		{`fields substr(@message, 1e300, 5) as s | fields strlen(s) as n | display n`, "n=0"},
		{`fields substr(@message, -1e300, 5) as s | fields strlen(s) as n | display n`, "n=5"},
		{`fields substr(@message, 1999, -9223372036854775808) as s | fields strlen(s) as n | display n`, "n=0"},
		{`fields substr(@message, 10, 3) as s | display s`, "s=xxx"},
		{`fields pow(10, 1e300) as p | display p`, ""},
		{`fields log(-1) as p, sqrt(-1) as q | display p, q`, ""},
		{`fields bin(1m, 1e300) as b | display b`, ""},
		{`fields datefloor(-9.3e18, 1y) as b | display b`, ""},
		{`fields bin(4611686018427387904y) as b | display b`, "!"},
		{`fields datefloor(@timestamp, 9223372036854775807ms) as b | display b`, "!"},
		{`fields dateceil(@timestamp, 1e30d) as b | display b`, "!"},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			q, err := Parse(tc.q)
			if tc.want == "!" {
				if err == nil {
					t.Fatalf("Parse(%q) compiled; want a CompileError", tc.q)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.q, err)
			}
			e := q.NewExec(10)
			err = e.Run(context.Background(), func(yield func(*Event) bool) error {
				yield(&Event{Timestamp: t0, Group: "g", Stream: "s", StreamID: 1, Message: []byte(msg)})
				return nil
			})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if got := render(e.Results()); tc.want != "" && got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
