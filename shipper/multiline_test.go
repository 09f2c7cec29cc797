package shipper

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keelvm/keel/shipper/cwlsdk"
)

// readTrace returns the lines of a captured trace (testdata/traces, made
// by gen.sh from the runtimes on this machine).
func readTrace(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "traces", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// wantEvents cuts lines into the events of counts (lines per event, blank
// lines inside an event included; -1: the rest); blank lines between
// events are skipped, as blank lines are.
func wantEvents(t *testing.T, lines []string, counts []int) []string {
	t.Helper()
	var out []string
	i := 0
	for _, n := range counts {
		for i < len(lines) && lines[i] == "" {
			i++
		}
		if n < 0 {
			n = len(lines) - i
		}
		if i+n > len(lines) {
			t.Fatalf("counts %v exceed the %d lines", counts, len(lines))
		}
		out = append(out, strings.Join(lines[i:i+n], "\n"))
		i += n
	}
	for ; i < len(lines); i++ {
		if lines[i] != "" {
			t.Fatalf("counts %v leave line %d out: %q", counts, i, lines[i])
		}
	}
	return out
}

// feeds are the ways lines reach the batcher: a Pipe written at once, a
// line per Write, in 7-byte chunks, and Log events (the init's road).
var feeds = []struct {
	name string
	run  func(s *Shipper, lines []string)
}{
	{"pipe at once", func(s *Shipper, lines []string) {
		p := s.Pipe("ERROR", "stderr")
		p.Write([]byte(strings.Join(lines, "\n") + "\n"))
		p.Close()
	}},
	{"pipe by line", func(s *Shipper, lines []string) {
		p := s.Pipe("ERROR", "stderr")
		for _, l := range lines {
			p.Write([]byte(l + "\n"))
		}
		p.Close()
	}},
	{"pipe by 7 bytes", func(s *Shipper, lines []string) {
		p := s.Pipe("ERROR", "stderr")
		all := []byte(strings.Join(lines, "\n") + "\n")
		for len(all) > 0 {
			n := min(7, len(all))
			p.Write(all[:n])
			all = all[n:]
		}
		p.Close()
	}},
	{"log events", func(s *Shipper, lines []string) {
		now := time.Now()
		for _, l := range lines {
			s.Log(Event{Time: now, Level: "ERROR", Source: "stderr", Message: l})
		}
	}},
}

// groupingShipper lingers long, so that only the rule under test ends a
// group (not a descheduled test goroutine); Flush ends the last one.
func groupingShipper(t *testing.T, f *fake, mod func(*Config)) *Shipper {
	return newShipper(t, f, func(c *Config) {
		c.Linger = 5 * time.Second
		if mod != nil {
			mod(c)
		}
	})
}

// TestMultilineAutoTraces: the traces of each runtime, as the runtime
// wrote them, are one event each with multiline auto (the default), by
// every road, with the lines around them events of their own.
func TestMultilineAutoTraces(t *testing.T) {
	cases := []struct {
		file   string
		counts []int
	}{
		{"java-uncaught.stderr", []int{-1}},     // Exception in thread, Suppressed, Caused by, ... N more
		{"java-caught.stderr", []int{1, 2, 1}},  // printStackTrace between two ordinary lines
		{"python-chained.stderr", []int{-1}},    // During handling / direct cause, with their blank lines
		{"python-group.stderr", []int{-1}},      // an exception group: no unindented last line
		{"python-syntax.stderr", []int{-1}},     // a SyntaxError: no Traceback line
		{"go-panic.stderr", []int{-1}},          // panic in a goroutine: created by
		{"go-nilptr.stderr", []int{-1}},         // [signal SIGSEGV ...]
		{"go-deadlock.stderr", []int{-1}},       // fatal error:
		{"node-uncaught.stderr", []int{-1}},     // source line and caret, Node.js vN
		{"node-props.stderr", []int{-1}},        // { code, path, [cause] }
		{"node-rejection.stderr", []int{8, -1}}, // console.error(err), then an unhandled rejection
		{"ruby-uncaught.stderr", []int{-1}},     // written by hand (see gen.sh)
		{"java-uncaught.stdout", []int{1}},      // "starting"
		{"go-panic.stdout", []int{1}},           // "serving"
		{"node-uncaught.stdout", []int{1}},      // "listening"
	}
	for _, tc := range cases {
		lines := readTrace(t, tc.file)
		want := wantEvents(t, lines, tc.counts)
		for _, fd := range feeds {
			t.Run(tc.file+"/"+fd.name, func(t *testing.T) {
				f := newFake()
				s := groupingShipper(t, f, nil)
				fd.run(s, lines)
				flush(t, s)
				if got := f.messages(); strings.Join(got, "\x00") != strings.Join(want, "\x00") {
					t.Fatalf("events:\n%s\nwant:\n%s", show(got), show(want))
				}
				if st := s.Stats(); st.Sent != len(want) || st.Joined != nonBlank(lines)-len(want) {
					t.Fatalf("stats %+v, want %d sent, %d joined", st, len(want), nonBlank(lines)-len(want))
				}
			})
		}
	}
}

// TestMultilineAllTracesInOne: every captured trace and ordinary line, one
// after the other in one stream, each trace one event: a trace ends at the
// next one's first line.
func TestMultilineAllTracesInOne(t *testing.T) {
	files := []struct {
		file   string
		counts []int
	}{
		{"java-uncaught.stderr", []int{-1}}, {"go-panic.stdout", []int{1}}, {"python-chained.stderr", []int{-1}},
		{"go-panic.stderr", []int{-1}}, {"node-props.stderr", []int{-1}}, {"java-caught.stderr", []int{1, 2, 1}},
		{"python-group.stderr", []int{-1}}, {"node-rejection.stderr", []int{8, -1}}, {"go-deadlock.stderr", []int{-1}},
		{"python-syntax.stderr", []int{-1}}, {"ruby-uncaught.stderr", []int{-1}}, {"go-nilptr.stderr", []int{-1}},
		{"node-uncaught.stderr", []int{-1}},
	}
	var all, want []string
	for _, fc := range files {
		lines := readTrace(t, fc.file)
		all = append(all, lines...)
		want = append(want, wantEvents(t, lines, fc.counts)...)
	}
	f := newFake()
	s := groupingShipper(t, f, nil)
	feeds[2].run(s, all)
	flush(t, s)
	got := f.messages()
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) || got[i] != want[i] {
			t.Fatalf("%d events, want %d; event %d differs:\n%s", len(got), len(want), i, show(got[i:min(i+2, len(got))]))
		}
	}
}

func nonBlank(lines []string) int {
	n := 0
	for _, l := range lines {
		if l != "" {
			n++
		}
	}
	return n
}

func show(events []string) string {
	var b strings.Builder
	for i, e := range events {
		fmt.Fprintf(&b, "--- event %d\n", i)
		b.WriteString(e)
		b.WriteString("\n")
	}
	return b.String()
}

// TestMultilineNotTraces: indented output that follows no trace's first
// line is not joined with auto: YAML, pretty JSON, an indented list after
// an error message, and lines that merely mention a trace's words.
func TestMultilineNotTraces(t *testing.T) {
	cases := []struct {
		name string
		text string
	}{
		{"yaml", "server:\n  port: 8080\n  routes:\n    - path: /\n      handler: index\n    - path: /api\n"},
		{"pretty json", "{\n  \"level\": \"info\",\n  \"nested\": {\n    \"a\": [1, 2],\n    \"at\": \"home\"\n  }\n}\n"},
		{"yaml after an error line", "Error: config.yaml is invalid:\n  port: abc\n  host:\n    - one\n"},
		{"indented after a Go panic's words", "the word panic: is not at the start\n\tindented\nmain.main()\n"},
		{"prose", "Traceback is a word\n  indented prose\nat the start\n    at four spaces\n"},
		{"python exception line alone", "KeyError: 'x'\n  but this is YAML\n"},
		{"a path:line that is not node's", "/etc/app.conf:3 has a typo\n  see line 3\n"},
		{"java class that is not an exception", "java.lang.String: a value\n\tat home\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			s := groupingShipper(t, f, nil)
			p := s.Pipe("INFO", "stdout")
			p.Write([]byte(tc.text))
			p.Close()
			flush(t, s)
			var want []string
			for _, l := range strings.Split(strings.TrimSuffix(tc.text, "\n"), "\n") {
				if l != "" {
					want = append(want, l)
				}
			}
			if got := f.messages(); strings.Join(got, "\x00") != strings.Join(want, "\x00") {
				t.Fatalf("events:\n%s\nwant:\n%s", show(got), show(want))
			}
		})
	}
}

// TestMultilineInterleaved: a trace on stderr while stdout goes on, by
// both roads: the trace is one event, stdout's lines are their own, and
// events leave in the order their first lines came (the trace first).
func TestMultilineInterleaved(t *testing.T) {
	trace := readTrace(t, "java-uncaught.stderr")
	for _, road := range []string{"pipes", "log events"} {
		t.Run(road, func(t *testing.T) {
			f := newFake()
			s := groupingShipper(t, f, nil)
			out, errp := s.Pipe("INFO", "stdout"), s.Pipe("ERROR", "stderr")
			now := time.Now()
			write := func(stderr bool, line string) {
				switch {
				case road == "log events" && stderr:
					s.Log(Event{Time: now, Level: "ERROR", Source: "stderr", Message: line})
				case road == "log events":
					s.Log(Event{Time: now, Level: "INFO", Source: "stdout", Message: line})
				case stderr:
					errp.Write([]byte(line + "\n"))
				default:
					out.Write([]byte(line + "\n"))
				}
			}
			var want []string
			write(false, "out 0")
			want = append(want, "out 0", strings.Join(trace, "\n"))
			for i, l := range trace {
				write(true, l)
				if i%3 == 0 {
					o := "out " + string(rune('a'+i))
					write(false, o)
					want = append(want, o)
				}
			}
			write(false, "    indented on stdout, not joined")
			want = append(want, "    indented on stdout, not joined")
			out.Close()
			errp.Close()
			flush(t, s)
			if got := f.messages(); strings.Join(got, "\x00") != strings.Join(want, "\x00") {
				t.Fatalf("events:\n%s\nwant:\n%s", show(got), show(want))
			}
		})
	}
}

// TestMultilineEventLimit: a trace longer than the event limit becomes
// several events, each within the limit once formatted, in order, with
// nothing lost; the trace goes on in the next event (its frames are not
// events of their own).
func TestMultilineEventLimit(t *testing.T) {
	java := []string{`Exception in thread "main" java.lang.StackOverflowError`}
	for i := range 200 {
		java = append(java, "\tat com.example.Recursive.descend(Recursive.java:"+string(rune('0'+i%10))+")")
	}
	cases := []struct {
		name   string
		format string
		max    int
		lines  []string
	}{
		{"python text 512", FormatText, 512, readTrace(t, "python-chained.stderr")},
		{"java json 1024", FormatJSON, 1024, java},
		{"node text 256", FormatText, 256, readTrace(t, "node-props.stderr")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			s := groupingShipper(t, f, func(c *Config) { c.Format, c.MaxEventBytes = tc.format, tc.max })
			feeds[0].run(s, tc.lines)
			flush(t, s)
			got := f.messages()
			if len(got) < 2 {
				t.Fatalf("%d events for a trace of %d lines with %d-byte events", len(got), len(tc.lines), tc.max)
			}
			var lines []string
			for i, m := range got {
				if len(m) > tc.max {
					t.Fatalf("event %d: %d bytes, over the %d-byte limit", i, len(m), tc.max)
				}
				if strings.Contains(m, "[keel: part") || strings.Contains(m, `"part"`) {
					t.Fatalf("event %d was split into parts: a group must end before the limit: %q", i, m)
				}
				if tc.format == FormatJSON {
					var ev struct{ Message string }
					if err := json.Unmarshal([]byte(m), &ev); err != nil {
						t.Fatalf("event %d: %v", i, err)
					}
					m = ev.Message
				}
				lines = append(lines, strings.Split(m, "\n")...)
			}
			var want []string
			for _, l := range tc.lines {
				if l != "" {
					want = append(want, l)
				}
			}
			var gotNB []string
			for _, l := range lines {
				if l != "" {
					gotNB = append(gotNB, l)
				}
			}
			if strings.Join(gotNB, "\n") != strings.Join(want, "\n") {
				t.Fatalf("lines of the events differ from the trace's:\n%s", show(got))
			}
			if len(got) > 2*len(strings.Join(tc.lines, "\n"))/tc.max+2 {
				t.Fatalf("%d events: the trace's events are not filled", len(got))
			}
		})
	}
}

// TestMultilineEndOfOutput: a trace that is the last output is one event
// when the shipper closes, though its wait is far from over; and when its
// Pipe closes, before a Flush.
func TestMultilineEndOfOutput(t *testing.T) {
	lines := readTrace(t, "go-panic.stderr")
	want := strings.Join(lines, "\n")
	t.Run("shipper Close", func(t *testing.T) {
		f := newFake()
		s, err := New(Config{Client: cwlsdk.Wrap(f), Group: "g", Stream: "s", Format: FormatText, Linger: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		p := s.Pipe("ERROR", "stderr")
		p.Write([]byte(want + "\n")) // the pipe is not closed: the app is still there
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("Close took %v: it waited for the group", d)
		}
		if got := f.messages(); len(got) != 1 || got[0] != want {
			t.Fatalf("events:\n%s", show(got))
		}
	})
	t.Run("pipe Close", func(t *testing.T) {
		f := newFake()
		s := groupingShipper(t, f, func(c *Config) { c.Linger = 50 * time.Millisecond; c.MultilineWait = 50 * time.Millisecond })
		p := s.Pipe("ERROR", "stderr")
		p.Write([]byte(want)) // no newline after the last line
		p.Close()
		flush(t, s)
		if got := f.messages(); len(got) != 1 || got[0] != want {
			t.Fatalf("events:\n%s", show(got))
		}
	})
}

// TestMultilineSilence: a trace followed by silence goes out by itself,
// without Flush or Close, once its wait and the linger are over; and a
// Flush ends a group at once, however long its wait.
func TestMultilineSilence(t *testing.T) {
	lines := readTrace(t, "python-chained.stderr")
	want := strings.Join(lines, "\n")
	t.Run("wait", func(t *testing.T) {
		f := newFake()
		s := newShipper(t, f, func(c *Config) { c.Linger = 100 * time.Millisecond })
		p := s.Pipe("ERROR", "stderr")
		start := time.Now()
		p.Write([]byte(want + "\n"))
		for len(f.messages()) == 0 {
			if time.Since(start) > 10*time.Second {
				t.Fatal("the trace was not sent after 10 s of silence")
			}
			time.Sleep(5 * time.Millisecond)
		}
		d := time.Since(start)
		if got := f.messages(); len(got) != 1 || got[0] != want {
			t.Fatalf("events:\n%s", show(got))
		}
		if d < 100*time.Millisecond {
			t.Fatalf("sent after %v, before the linger", d)
		}
		t.Logf("sent %v after its write (linger 100 ms, wait 50 ms)", d)
	})
	t.Run("flush", func(t *testing.T) {
		f := newFake()
		s := newShipper(t, f, func(c *Config) { c.Linger = time.Minute })
		p := s.Pipe("ERROR", "stderr")
		p.Write([]byte(want + "\n"))
		start := time.Now()
		flush(t, s)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("Flush took %v", d)
		}
		if got := f.messages(); len(got) != 1 || got[0] != want {
			t.Fatalf("events:\n%s", show(got))
		}
	})
	t.Run("late line", func(t *testing.T) {
		// A continuation that comes after the wait is its own event.
		f := newFake()
		s := newShipper(t, f, func(c *Config) { c.Linger = 40 * time.Millisecond; c.MultilineWait = 20 * time.Millisecond })
		p := s.Pipe("ERROR", "stderr")
		p.Write([]byte("panic: boom\n"))
		time.Sleep(300 * time.Millisecond)
		p.Write([]byte("\tlate\n"))
		flush(t, s)
		if got := f.messages(); strings.Join(got, "|") != "panic: boom|\tlate" {
			t.Fatalf("events %q", got)
		}
	})
}

// TestMultilineRegexAndOff: a custom expression starts an event at each
// line it matches, the others join it (a first line that does not match
// starts one too); off makes every line an event, traces included.
func TestMultilineRegexAndOff(t *testing.T) {
	text := "  orphan\n2026-12-08 one\n  more\n\n  and more\n2026-12-08 two\n2026-12-08 three\nTraceback (most recent call last):\n  File \"x\"\n"
	cases := []struct {
		mode string
		want []string
	}{
		{`^\d{4}-\d\d-\d\d `, []string{"  orphan", "2026-12-08 one\n  more\n\n  and more", "2026-12-08 two",
			"2026-12-08 three\nTraceback (most recent call last):\n  File \"x\""}},
		{MultilineOff, []string{"  orphan", "2026-12-08 one", "  more", "  and more", "2026-12-08 two", "2026-12-08 three",
			"Traceback (most recent call last):", "  File \"x\""}},
		{MultilineAuto, []string{"  orphan", "2026-12-08 one", "  more", "  and more", "2026-12-08 two", "2026-12-08 three",
			"Traceback (most recent call last):\n  File \"x\""}},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			f := newFake()
			s := groupingShipper(t, f, func(c *Config) { c.Multiline = tc.mode })
			p := s.Pipe("INFO", "stdout")
			p.Write([]byte(text))
			p.Close()
			flush(t, s)
			if got := f.messages(); strings.Join(got, "\x00") != strings.Join(tc.want, "\x00") {
				t.Fatalf("events:\n%s\nwant:\n%s", show(got), show(tc.want))
			}
		})
	}
}

// TestCheckMultiline: what New and the flags refuse, with a message.
func TestCheckMultiline(t *testing.T) {
	for v, want := range map[string]string{
		"auto": "", "off": "", "": "", `^\d{4}-`: "", `^(INFO|ERROR) `: "",
		`^(unclosed`: "not auto, off or a valid regular expression",
		`x*`:         "matches an empty line",
	} {
		err := CheckMultiline(v)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("CheckMultiline(%q) = %v, want %q", v, err, want)
		}
	}
	if _, err := New(Config{Client: cwlsdk.Wrap(newFake()), Group: "g", Stream: "s", Multiline: "(["}); err == nil {
		t.Error("New took a bad expression")
	}
}

// TestOpensOrdinaryLines: common log lines do not open a trace (they would
// wait for nothing), and each shape that does, does.
func TestOpensOrdinaryLines(t *testing.T) {
	for _, l := range []string{
		`{"level":"info","msg":"GET /"}`, `2026-12-08T04:00:00Z INFO started`, `INFO: started`, `ERROR: failed`,
		`127.0.0.1 - - [08/Dec/2026:04:00:00 +0000] "GET / HTTP/1.1" 200`, `level=error msg="x"`,
		`Errors: 3`, `[main] ERROR App - failed`, `  - item`, `panic`, `goroutine 1`, `/path/file.go:12: note`,
		`request 42 failed`, `Exceptionally well`,
	} {
		if st, ok := opens([]byte(l)); ok {
			t.Errorf("%q opens a trace (state %d)", l, st)
		}
	}
	for _, l := range []string{
		`Traceback (most recent call last):`, `panic: boom`, `fatal error: concurrent map writes`,
		`goroutine 7 [running]:`, `Exception in thread "main" java.lang.Error`, `java.lang.IllegalStateException: x`,
		`TypeError: x is not a function`, `AssertionError [ERR_ASSERTION]: 1 == 2`, `/tmp/app.js:3`,
		`node:internal/modules/cjs/loader:1080`, `file:///tmp/app.mjs:4`, `app.rb:2:in 'Object#foo': boom (RuntimeError)`,
		`  File "x.py", line 1`, `  + Exception Group Traceback (most recent call last):`, `MyException`,
	} {
		if _, ok := opens([]byte(l)); !ok {
			t.Errorf("%q does not open a trace", l)
		}
	}
}

// BenchmarkOpens is the auto matcher's cost on an ordinary line, paid by
// every line while no trace is open.
func BenchmarkOpens(b *testing.B) {
	lines := [][]byte{
		[]byte(`{"level":"info","msg":"GET / 200","latency_ms":3}`),
		[]byte(`2026-12-08T04:00:00.123Z INFO request served path=/ status=200`),
		[]byte(`RequestHandler: served / in 3 ms`),
	}
	for i := 0; b.Loop(); i++ {
		opens(lines[i%len(lines)])
	}
}

// TestMultilineLostAtClose: a trace that cannot be delivered before Close
// gives up is counted once, as one lost event, and every event accepted is
// accounted for.
func TestMultilineLostAtClose(t *testing.T) {
	f := newFake()
	serviceDown(f)
	s, err := New(Config{Client: cwlsdk.Wrap(f), Group: "g", Stream: "s", Format: FormatText, Linger: time.Minute,
		RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p := s.Pipe("ERROR", "stderr")
	p.Write([]byte("before\n" + strings.Join(readTrace(t, "java-uncaught.stderr"), "\n") + "\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); err == nil {
		t.Fatal("Close succeeded with the service down")
	}
	st := s.Stats()
	if st.Accepted != 2 || st.Lost != 2 || st.Sent != 0 || st.Accepted != st.Sent+st.Dropped+st.Rejected+st.Lost {
		t.Fatalf("stats %+v: want the line and the trace, 2 events, lost", st)
	}
}

// TestMultilineFloodBehindTrace: a flood on stdout while a trace on
// stderr is open does not wait for the trace: past 1 MiB held behind it,
// the trace's event goes and the trace goes on in the next; nothing is
// lost or reordered within a source.
func TestMultilineFloodBehindTrace(t *testing.T) {
	f := newFake()
	s := groupingShipper(t, f, func(c *Config) { c.BufferBytes = 64 << 20 })
	out, errp := s.Pipe("INFO", "stdout"), s.Pipe("ERROR", "stderr")
	trace := readTrace(t, "java-uncaught.stderr")
	errp.Write([]byte(trace[0] + "\n" + trace[1] + "\n"))
	var flood strings.Builder
	const n = 30_000 // 1.5 MiB
	for i := range n {
		fmt.Fprintf(&flood, "line %d %s\n", i, strings.Repeat("x", 40))
	}
	out.Write([]byte(flood.String()))
	errp.Write([]byte(strings.Join(trace[2:], "\n") + "\n"))
	out.Close()
	errp.Close()
	flush(t, s)
	got := f.messages()
	exactlyOnce(t, got, n, false)
	var traceEvents []string
	for _, m := range got {
		if !strings.HasPrefix(m, "line ") {
			traceEvents = append(traceEvents, m)
		}
	}
	if len(traceEvents) != 2 || strings.Join(traceEvents, "\n") != strings.Join(trace, "\n") {
		t.Fatalf("the trace's events:\n%s", show(traceEvents))
	}
	if got[0] != trace[0]+"\n"+trace[1] {
		t.Fatalf("first event %q: the trace's start came first", got[0])
	}
}
