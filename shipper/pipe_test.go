package shipper

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// TestPipeLines: whatever the chunking of the stream, the events are its
// lines: split across chunks, CRLF, empty lines, a last line without its
// newline (sent at Close), and lines longer than an event (marked parts
// cut at rune boundaries).
func TestPipeLines(t *testing.T) {
	long := strings.Repeat("é", 300) // 600 bytes of 2-byte runes
	cases := []struct {
		name   string
		chunks []string
		want   []string
	}{
		{"one chunk", []string{"a\nb\n"}, []string{"a", "b"}},
		{"split inside a line", []string{"li", "ne 1\nli", "ne 2\n"}, []string{"line 1", "line 2"}},
		{"split at the newline", []string{"a", "\n", "b\n"}, []string{"a", "b"}},
		{"byte by byte", strings.Split("ab\ncd\n", ""), []string{"ab", "cd"}},
		{"partial last line at EOF", []string{"a\nlast"}, []string{"a", "last"}},
		{"CRLF", []string{"a\r\nb\r", "\n"}, []string{"a", "b"}},
		{"empty lines are skipped", []string{"\n\na\n\n"}, []string{"a"}},
		{"a lone CR is kept", []string{"a\rb\n"}, []string{"a\rb"}},
		{"split inside a rune", []string{"x\xc3", "\xa9y\n"}, []string{"xéy"}},
		{"invalid UTF-8 is replaced", []string{"a\xffb\n"}, []string{"a\uFFFDb"}},
		{"long line in parts at rune boundaries", []string{long[:301], long[301:] + "\n"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			s := newShipper(t, f, func(c *Config) { c.MaxEventBytes = 256 })
			p := s.Pipe("INFO", "stdout")
			for _, c := range tc.chunks {
				p.Write([]byte(c))
			}
			p.Close()
			flush(t, s)
			got := f.messages()
			if tc.want == nil {
				checkParts(t, got, long, 256)
				return
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("events %q, want %q", got, tc.want)
			}
			if st := s.Stats(); st.Sent != len(tc.want) || st.Accepted != len(tc.want) {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// checkParts asserts that got are the marked parts of line, each at most max
// bytes and valid UTF-8 (cut at rune boundaries), which join to line.
func checkParts(t *testing.T, got []string, line string, max int) {
	t.Helper()
	if len(got) < 2 {
		t.Fatalf("%d events for a %d-byte line with %d-byte events", len(got), len(line), max)
	}
	joined := ""
	for i, m := range got {
		prefix := fmt.Sprintf("[keel: part %d/%d] ", i+1, len(got))
		if !strings.HasPrefix(m, prefix) || len(m) > max || !utf8.ValidString(m) {
			t.Fatalf("part %d: %q (%d bytes)", i, m, len(m))
		}
		joined += strings.TrimPrefix(m, prefix)
	}
	if joined != line {
		t.Fatalf("parts join to %q", joined)
	}
}

// TestPipeLongLineWithoutNewline: a stream without newlines is cut every
// 1 MiB, at a rune boundary, so that a line cannot grow without bound.
func TestPipeLongLineWithoutNewline(t *testing.T) {
	f := newFake()
	s := newShipper(t, f, func(c *Config) {
		c.MaxEventBytes = maxBatchBytes - eventOverhead
		c.BufferBytes = 64 << 20
		c.InFlight = 1
	})
	p := s.Pipe("INFO", "stdout")
	line := "ab" + strings.Repeat("€", maxLine/3+10) // 3-byte runes: maxLine falls inside one
	for i := 0; i < len(line); i += 100_000 {
		p.Write([]byte(line[i:min(i+100_000, len(line))]))
	}
	p.Close()
	flush(t, s)
	joined, lines := "", 0
	for _, m := range s2parts(f.messages()) {
		if !utf8.ValidString(m.text) {
			t.Fatalf("an event is not valid UTF-8: cut inside a rune")
		}
		if m.part <= 1 {
			lines++
		}
		joined += m.text
	}
	if joined != line || lines != 2 {
		t.Fatalf("%d lines joining to %d bytes, want 2 and %d", lines, len(joined), len(line))
	}
}

type partMsg struct {
	part int // 0: not split
	text string
}

// s2parts strips the part marks of split lines.
func s2parts(msgs []string) []partMsg {
	var out []partMsg
	for _, m := range msgs {
		var i, n int
		if _, err := fmt.Sscanf(m, "[keel: part %d/%d] ", &i, &n); err == nil {
			out = append(out, partMsg{i, m[strings.Index(m, "] ")+2:]})
			continue
		}
		out = append(out, partMsg{0, m})
	}
	return out
}

// TestPipeJSONFormat: json events carry level and source, a JSON line keeps
// its keys, and the message is escaped once in the event.
func TestPipeJSONFormat(t *testing.T) {
	f := newFake()
	s := newShipper(t, f, func(c *Config) { c.Format = FormatJSON; c.Instance = "i-1"; c.Image = "app" })
	out, errp := s.Pipe("INFO", "stdout"), s.Pipe("ERROR", "stderr")
	out.Write([]byte("say \"hi\"\\\t\n{\"requestId\":\"r-9\"}\n"))
	errp.Write([]byte("AKIAIOSFODNN7EXAMPLE leaked\n"))
	s.Log(Event{Level: "WARN", Source: "init", Message: "multi\nline"})
	flush(t, s)
	want := []string{
		`{"instance":"i-1","image":"app","level":"INFO","message":"say \"hi\"\\\t","source":"stdout"}`,
		`{"instance":"i-1","image":"app","level":"INFO","requestId":"r-9"}`,
		`{"instance":"i-1","image":"app","level":"ERROR","message":"[REDACTED] leaked","source":"stderr"}`,
		`{"instance":"i-1","image":"app","level":"WARN","message":"multi\nline","source":"init"}`,
	}
	if got := f.messages(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDropMarkerPosition: with one request in flight at a time and the
// service down, a flood drops the oldest unsent lines; once delivery
// resumes, each gap in the stream holds a marker that counts exactly the
// lines missing there, between their first and last timestamps.
func TestDropMarkerPosition(t *testing.T) {
	f := newFake()
	up := serviceDown(f)
	s := newShipper(t, f, func(c *Config) { c.BufferBytes = 256 << 10; c.InFlight = 1 })
	p := s.Pipe("INFO", "stdout")
	const n = 30_000
	for i := 0; i < n; i += 100 {
		var sb strings.Builder
		for j := i; j < i+100; j++ {
			fmt.Fprintf(&sb, "line %d %s\n", j, strings.Repeat("p", 40))
		}
		p.Write([]byte(sb.String()))
	}
	up()
	flush(t, s)
	got := f.messages()
	st := s.Stats()
	if st.Dropped == 0 || st.Markers == 0 {
		t.Fatalf("no drops: %+v", st)
	}
	prev := -1
	markers, marked := 0, 0
	for i, m := range got {
		var k, by int
		if _, err := fmt.Sscanf(m, "keel: dropped %d events (%d bytes) between ", &k, &by); err == nil {
			markers++
			marked += k
			var next int
			if i+1 < len(got) {
				fmt.Sscanf(got[i+1], "line %d", &next)
			} else {
				next = n
			}
			if next-prev-1 != k || by == 0 {
				t.Fatalf("marker %q sits between line %d and line %d", m, prev, next)
			}
			if !strings.Contains(m, " between 20") || !strings.Contains(m, "Z and 20") {
				t.Fatalf("marker text %q", m)
			}
			continue
		}
		var line int
		if _, err := fmt.Sscanf(m, "line %d", &line); err != nil {
			t.Fatalf("unexpected event %q", m)
		}
		if line != prev+1 && (i == 0 || !strings.HasPrefix(got[i-1], "keel: dropped")) {
			t.Fatalf("line %d follows line %d without a marker", line, prev)
		}
		prev = line
	}
	if markers != st.Markers || marked != st.Dropped || st.Sent+st.Dropped != n || st.Accepted != n {
		t.Fatalf("%d markers for %d events; stats %+v", markers, marked, st)
	}
}

// TestPipeDropsKeepLinesWhole: when blocks are dropped in the middle of
// lines (a tiny buffer, chunks cut anywhere), no fragment of a line is ever
// delivered, and every line is delivered, dropped or lost exactly once.
func TestPipeDropsKeepLinesWhole(t *testing.T) {
	f := newFake()
	up := serviceDown(f)
	s := newShipper(t, f, func(c *Config) { c.BufferBytes = 64 << 10; c.InFlight = 1 })
	p := s.Pipe("INFO", "stdout")
	var sb strings.Builder
	const n = 5000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "line %d %s end\n", i, strings.Repeat("q", i%300))
	}
	data := sb.String()
	for i, step := 0, 1; i < len(data); i, step = i+step, step%997+13 {
		p.Write([]byte(data[i:min(i+step, len(data))]))
	}
	up()
	p.Close()
	flush(t, s)
	seen := map[int]bool{}
	for _, m := range f.messages() {
		if strings.HasPrefix(m, "keel: dropped") {
			continue
		}
		var i int
		if _, err := fmt.Sscanf(m, "line %d", &i); err != nil || m != fmt.Sprintf("line %d %s end", i, strings.Repeat("q", i%300)) || seen[i] {
			t.Fatalf("fragment or duplicate delivered: %.60q", m)
		}
		seen[i] = true
	}
	st := s.Stats()
	if st.Dropped == 0 || len(seen) != st.Sent || st.Sent+st.Dropped != n || st.Accepted != n {
		t.Fatalf("%d delivered; stats %+v", len(seen), st)
	}
}

// TestCloseReportsLostPipeLines: what is still buffered when Close gives
// up is counted, in events and bytes, and said once.
func TestCloseReportsLostPipeLines(t *testing.T) {
	f := newFake()
	f.failPut = func(int, *cwl.PutLogEventsInput) error { return errors.New("connection refused") }
	var notices []string
	var mu sync.Mutex
	s := newShipper(t, f, func(c *Config) {
		c.Notice = func(m string) { mu.Lock(); notices = append(notices, m); mu.Unlock() }
	})
	p := s.Pipe("INFO", "stdout")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(p, "line %d\n", i)
	}
	p.Write([]byte("unfinished"))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("close: %v", err)
	}
	p.Write([]byte(" after close\nmore\n")) // ends "unfinished", then one line
	st := s.Stats()
	if st.Lost != 1002 || st.Sent != 0 || st.Accepted != 1001 || st.LostBytes == 0 {
		t.Fatalf("stats %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	found := false
	for _, n := range notices {
		found = found || strings.Contains(n, "1001 events (") && strings.Contains(n, "were not delivered to g/s before shutdown")
	}
	if !found {
		t.Fatalf("notices %q", notices)
	}
}

// TestFlushWaitsForPipeLines: Flush returns once the complete lines
// written before it are delivered, without waiting for an unfinished one.
func TestFlushWaitsForPipeLines(t *testing.T) {
	f := newFake()
	s := newShipper(t, f, func(c *Config) { c.Linger = time.Hour })
	p := s.Pipe("INFO", "stdout")
	p.Write([]byte("line 0\nline 1\nunfini"))
	flush(t, s)
	if got := f.messages(); strings.Join(got, "|") != "line 0|line 1" {
		t.Fatalf("got %q", got)
	}
	p.Write([]byte("shed\n"))
	flush(t, s)
	if got := f.messages(); len(got) != 3 || got[2] != "unfinished" {
		t.Fatalf("got %q", got)
	}
}

// TestPipeEOFDropped: a pipe's end can go with a dropped block; the
// accounting stays whole and the shipper does not wait for that pipe.
func TestPipeEOFDropped(t *testing.T) {
	f := newFake()
	up := serviceDown(f)
	s := newShipper(t, f, func(c *Config) { c.BufferBytes = 64 << 10; c.InFlight = 1 })
	a, b := s.Pipe("INFO", "a"), s.Pipe("INFO", "b")
	for i := 0; i < 3; i++ { // some of it in flight, the rest queued
		fmt.Fprintf(a, "a line %d\n", i)
	}
	a.Write([]byte("a tail"))
	a.Close()
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(b, "b line %d %s\n", i, strings.Repeat("x", 50))
	}
	up()
	flush(t, s)
	st := s.Stats()
	if st.Dropped == 0 || st.Sent+st.Dropped != st.Accepted || st.Accepted != 5004 {
		t.Fatalf("stats %+v", st)
	}
	for _, m := range f.messages() {
		if !strings.HasPrefix(m, "a line ") && !strings.HasPrefix(m, "b line ") && !strings.HasPrefix(m, "keel: dropped ") && m != "a tail" {
			t.Fatalf("unexpected event %q", m)
		}
	}
}

// TestFlushWaitsForDroppedEOFLine: when a pipe's end record is dropped
// while its unfinished last line is held by the batcher, that line still
// becomes an event, and a Flush called after the pipe's Close waits for it
// (it was logged before the Flush) instead of returning at once.
func TestFlushWaitsForDroppedEOFLine(t *testing.T) {
	f := newFake()
	s := newShipper(t, f, func(c *Config) { c.Linger = time.Hour })
	p := s.Pipe("INFO", "a")
	p.Write([]byte("a tail"))
	flush(t, s) // the batcher now holds "a tail", waiting for its newline
	p.Close()
	s.mu.Lock()
	for len(s.in.q) > 0 { // the end record goes as if the buffer were full
		s.dropFront()
	}
	s.mu.Unlock()
	flush(t, s)
	if got := f.messages(); strings.Join(got, "|") != "a tail" {
		t.Fatalf("after Flush the server has %q, want the pipe's last line", got)
	}
}
