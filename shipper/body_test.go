package shipper

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/keelvm/keel/shipper/cwlsdk"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type testEvent struct {
	ts  time.Time
	msg string
}

func evs(n, size int, ts time.Time) []testEvent {
	q := make([]testEvent, n)
	for i := range q {
		q[i] = testEvent{ts, strings.Repeat("x", size)}
	}
	return q
}

// fill adds events to a fresh request until one does not fit, and returns
// the request and how many went in.
func fill(q []testEvent, limit int) (*body, int) {
	b := &body{}
	b.reset("g", "s", limit)
	n := 0
	for i, e := range q {
		ts := e.ts.UnixMilli()
		start := b.open(ts)
		b.buf = appendEscaped(b.buf, e.msg)
		if !b.close(start, ts, len(e.msg), uint64(i+1)) {
			break
		}
		n++
	}
	b.finish(nil)
	return b, n
}

func TestBodyRules(t *testing.T) {
	perEvent := (maxBatchBytes / 4) - eventOverhead // four events fill a batch exactly
	cases := []struct {
		name     string
		q        []testEvent
		limit    int
		wantN    int
		wantMsgs []string // request order, if set
	}{
		{"count limit", evs(10_001, 1, t0), maxBatchBytes, 10_000, nil},
		{"exactly full bytes", evs(5, perEvent, t0), maxBatchBytes, 4, nil},
		{"one byte over", append(evs(3, perEvent, t0), testEvent{t0, strings.Repeat("y", perEvent+1)}), maxBatchBytes, 3, nil},
		{"soft limit never stops the first event", evs(2, 5000, t0), 1024, 1, nil},
		{"unsorted input is sorted, stable", []testEvent{{t0.Add(2 * time.Second), "a"}, {t0, "b"}, {t0.Add(time.Second), "c"}, {t0, "d"}}, maxBatchBytes, 4, []string{"b", "d", "c", "a"}},
		{"25-hour span cuts", []testEvent{{t0.Add(-25 * time.Hour), "a"}, {t0.Add(-2 * time.Hour), "b"}, {t0, "c"}}, maxBatchBytes, 2, nil},
		{"clock step back within a day", []testEvent{{t0, "a"}, {t0.Add(-time.Hour), "b"}, {t0.Add(time.Minute), "c"}}, maxBatchBytes, 3, []string{"b", "a", "c"}},
		{"clock step back beyond a day", []testEvent{{t0, "a"}, {t0.Add(-30 * time.Hour), "b"}}, maxBatchBytes, 1, nil},
		{"escapes", []testEvent{{t0, "q\"b\\n\nt\tc\x01é"}}, maxBatchBytes, 1, []string{"q\"b\\n\nt\tc\x01é"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, n := fill(tc.q, tc.limit)
			if n != tc.wantN || b.len() != tc.wantN {
				t.Fatalf("%d events in the request (%d spans), want %d", n, b.len(), tc.wantN)
			}
			in := checkBody(t, b)
			for i, m := range tc.wantMsgs {
				if *in.LogEvents[i].Message != m {
					t.Fatalf("event %d is %q, want %q", i, *in.LogEvents[i].Message, m)
				}
			}
		})
	}
}

// checkBody decodes a request body as the service would and asserts every
// PutLogEvents rule on it, and that the spans match the events.
func checkBody(t *testing.T, b *body) *cwl.PutLogEventsInput {
	t.Helper()
	if !json.Valid(b.buf) {
		t.Fatalf("invalid JSON body: %.200q", b.buf)
	}
	in, err := cwlsdk.DecodeBody(b.buf)
	if err != nil {
		t.Fatal(err)
	}
	size := 0
	for i, e := range in.LogEvents {
		m := *e.Message
		size += len(m) + eventOverhead
		if !utf8.ValidString(m) || m == "" {
			t.Fatalf("event %d: invalid or empty message", i)
		}
		if i > 0 && *e.Timestamp < *in.LogEvents[i-1].Timestamp {
			t.Fatalf("event %d out of order", i)
		}
		if sp := b.spans[i]; int(sp.size) != len(m) || sp.ts != *e.Timestamp {
			t.Fatalf("event %d: span says size %d ts %d, body has %d, %d", i, sp.size, sp.ts, len(m), *e.Timestamp)
		}
	}
	n := len(in.LogEvents)
	if n == 0 || n > maxBatchEvents || size > maxBatchBytes {
		t.Fatalf("batch of %d events, %d bytes", n, size)
	}
	if *in.LogEvents[n-1].Timestamp-*in.LogEvents[0].Timestamp >= maxSpan.Milliseconds() {
		t.Fatal("batch spans 24 hours or more")
	}
	if *in.LogGroupName != "g" || *in.LogStreamName != "s" {
		t.Fatalf("group %q stream %q", *in.LogGroupName, *in.LogStreamName)
	}
	return in
}

func TestBodyPart(t *testing.T) {
	b, _ := fill([]testEvent{{t0, "a"}, {t0, "b"}, {t0, "c"}}, maxBatchBytes)
	for _, tc := range []struct {
		i, j int
		want string
	}{{0, 1, "a"}, {1, 3, "bc"}, {0, 3, "abc"}} {
		p := b.part(tc.i, tc.j)
		in := checkBody(t, p)
		got := ""
		for _, e := range in.LogEvents {
			got += *e.Message
		}
		if got != tc.want || p.bytes != len(tc.want)*(1+eventOverhead) {
			t.Fatalf("part %d:%d = %q (%d bytes), want %q", tc.i, tc.j, got, p.bytes, tc.want)
		}
	}
}

func TestEscaping(t *testing.T) {
	for _, s := range []string{"", "plain ascii text that is longer than eight", `"`, `\`, "\x00\x1f\x7f", "é€😀", strings.Repeat(`a"b\c`, 9), "\n\r\t"} {
		once := appendEscaped(nil, s)
		var back string
		if err := json.Unmarshal([]byte(`"`+string(once)+`"`), &back); err != nil || back != s {
			t.Errorf("appendEscaped(%q) = %q: decodes to %q, %v", s, once, back, err)
		}
		if escapedLen(s) != len(once) {
			t.Errorf("escapedLen(%q) = %d, want %d", s, escapedLen(s), len(once))
		}
		twice, n := appendEscaped2(nil, s)
		if n != len(once) || string(twice) != string(appendEscaped(nil, string(once))) {
			t.Errorf("appendEscaped2(%q) = %q, %d", s, twice, n)
		}
	}
}

func TestValidUTF8(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\xffb", "a\uFFFDb"},
		{"\xff\xfe", "\uFFFD\uFFFD"}, // one replacement per byte: 3 bytes each
		{"é\xc3", "é\uFFFD"},         // a truncated rune
	}
	for _, tc := range cases {
		if got := string(fixUTF8(nil, tc.in)); got != tc.want {
			t.Errorf("fixUTF8(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if n := len(fixUTF8(nil, strings.Repeat("\xff", 10))); n != 30 {
		t.Errorf("10 invalid bytes size to %d, want 30", n)
	}
}
