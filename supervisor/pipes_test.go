package supervisor

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/keelvm/keel/internal/piperead"
)

func TestLineSplitter(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		max  int
		want []string
	}{
		{"lines", "a\nb\n", 64, []string{"a", "b"}},
		{"partial last line", "a\nb", 64, []string{"a", "b"}},
		{"crlf", "a\r\nb\r\n", 64, []string{"a", "b"}},
		{"empty lines kept", "a\n\nb\n", 64, []string{"a", "", "b"}},
		{"empty input", "", 64, nil},
		{"long line in pieces", strings.Repeat("x", 150) + "\nz\n", 64,
			[]string{strings.Repeat("x", 64), strings.Repeat("x", 64), strings.Repeat("x", 22), "z"}},
		{"piece ends right before the newline", strings.Repeat("x", 128) + "\nz\n", 64,
			[]string{strings.Repeat("x", 64), strings.Repeat("x", 64), "z"}},
		{"no rune split", strings.Repeat("x", 63) + "é" + "\n", 64,
			[]string{strings.Repeat("x", 63), "é"}},
		{"long partial flushed", strings.Repeat("x", 100), 64,
			[]string{strings.Repeat("x", 64), strings.Repeat("x", 36)}},
	} {
		for _, one := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/onebyte=%v", c.name, one), func(t *testing.T) {
				var got []string
				sp := newLineSplitter(c.max, func(s string) { got = append(got, s) })
				var r io.Reader = strings.NewReader(c.in)
				if one {
					r = iotest.OneByteReader(r)
				}
				pr, pw, err := piperead.Pipe(0)
				if err != nil {
					t.Fatal(err)
				}
				go func() { io.Copy(pw, r); pw.Close() }()
				if err := pr.Run(sp.write); err != nil {
					t.Fatal(err)
				}
				pr.Close()
				sp.flush()
				if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", c.want) {
					t.Errorf("got %q, want %q", got, c.want)
				}
				for _, s := range got {
					if !utf8.ValidString(s) {
						t.Errorf("piece %q is not valid UTF-8", s)
					}
				}
			})
		}
	}
}

// TestPanickingSink: a sink that panics on every call does not stop the
// app's output from being read, nor the supervisor.
func TestPanickingSink(t *testing.T) {
	var errs []error
	exe, _ := os.Executable()
	s, err := New(App{Path: exe, Args: []string{"1000"}, Env: helperEnvFor("lines")}, Options{
		Sink:    SinkFunc(func(Event) { panic("sink bug") }),
		Reaper:  testReaper,
		OnError: func(err error) { errs = append(errs, err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	r := wait(t, runAsync(s))
	if r.err != nil || !r.st.Success() {
		t.Fatal(r.st, r.err)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "sink bug") {
		t.Errorf("errors: %v", errs)
	}
}
