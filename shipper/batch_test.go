package shipper

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ev(ts time.Time, seq uint64, msg string) entry {
	return entry{ts: ts.UnixMilli(), seq: seq, msg: msg}
}

func events(n, size int, ts time.Time) []entry {
	q := make([]entry, n)
	msg := strings.Repeat("x", size)
	for i := range q {
		q[i] = ev(ts, uint64(i+1), msg)
	}
	return q
}

func TestCutRules(t *testing.T) {
	perEvent := (maxBatchBytes / 4) - eventOverhead // four events fill a batch exactly
	cases := []struct {
		name     string
		q        []entry
		wantN    int // consumed
		wantLen  int // in the batch
		wantRej  int
		checkSeq []uint64 // batch order, if set
	}{
		{"count limit", events(10_001, 1, t0), 10_000, 10_000, 0, nil},
		{"exactly full bytes", events(5, perEvent, t0), 4, 4, 0, nil},
		{"one byte over", append(events(3, perEvent, t0), ev(t0, 4, strings.Repeat("y", perEvent+1))), 3, 3, 0, nil},
		{"unsorted input is sorted, stable", []entry{ev(t0.Add(2*time.Second), 1, "a"), ev(t0, 2, "b"), ev(t0.Add(time.Second), 3, "c"), ev(t0, 4, "d")}, 4, 4, 0, []uint64{2, 4, 3, 1}},
		{"25-hour span cuts", []entry{ev(t0.Add(-25*time.Hour), 1, "a"), ev(t0.Add(-2*time.Hour), 2, "b"), ev(t0, 3, "c")}, 2, 2, 0, nil},
		{"clock step back within a day", []entry{ev(t0, 1, "a"), ev(t0.Add(-time.Hour), 2, "b"), ev(t0.Add(time.Minute), 3, "c")}, 3, 3, 0, []uint64{2, 1, 3}},
		{"clock step back beyond a day", []entry{ev(t0, 1, "a"), ev(t0.Add(-30*time.Hour), 2, "b")}, 1, 1, 0, nil},
		{"too old and too new are rejected", []entry{ev(t0.Add(-15*24*time.Hour), 1, "old"), ev(t0, 2, "ok"), ev(t0.Add(3*time.Hour), 3, "new")}, 3, 1, 2, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, n, rej := cut(tc.q, t0, maxBatchBytes, 0, 0, nil, nil)
			if n != tc.wantN || len(b) != tc.wantLen || len(rej) != tc.wantRej {
				t.Fatalf("consumed %d, batch %d, rejected %d; want %d, %d, %d", n, len(b), len(rej), tc.wantN, tc.wantLen, tc.wantRej)
			}
			checkBatch(t, b)
			for i, seq := range tc.checkSeq {
				if b[i].seq != seq {
					t.Fatalf("order %v, want %v", seqs(b), tc.checkSeq)
				}
			}
		})
	}
}

// checkBatch asserts every PutLogEvents rule on a batch.
func checkBatch(t *testing.T, b []entry) {
	t.Helper()
	size := 0
	for i, e := range b {
		size += len(e.msg) + eventOverhead
		if !utf8.ValidString(e.msg) || e.msg == "" {
			t.Fatalf("event %d: invalid or empty message", i)
		}
		if i > 0 && e.ts < b[i-1].ts {
			t.Fatalf("event %d out of order", i)
		}
	}
	if len(b) == 0 || len(b) > maxBatchEvents || size > maxBatchBytes {
		t.Fatalf("batch of %d events, %d bytes", len(b), size)
	}
	if b[len(b)-1].ts-b[0].ts >= maxSpan.Milliseconds() {
		t.Fatalf("batch spans %v", time.Duration(b[len(b)-1].ts-b[0].ts)*time.Millisecond)
	}
}

func seqs(b []entry) []uint64 {
	var s []uint64
	for _, e := range b {
		s = append(s, e.seq)
	}
	return s
}

// TestCutDrainsEverything cuts a mixed queue until it is empty: every event
// ends in exactly one batch or is rejected, and every batch is valid.
func TestCutDrainsEverything(t *testing.T) {
	var q []entry
	for i := 0; i < 30_000; i++ {
		ts := t0.Add(time.Duration(i%7) * time.Second)
		if i%5000 == 0 {
			ts = t0.Add(-20 * time.Hour) // clock steps
		}
		q = append(q, ev(ts, uint64(i+1), strings.Repeat("z", 1+i%300)))
	}
	seen := map[uint64]bool{}
	for len(q) > 0 {
		b, n, rej := cut(q, t0, maxBatchBytes, 1, 200, nil, nil)
		if len(rej) > 0 {
			t.Fatalf("%d rejected", len(rej))
		}
		checkBatch(t, b)
		if len(b) > maxBatchEvents-1 {
			t.Fatal("reserve not kept")
		}
		for _, e := range b {
			if seen[e.seq] {
				t.Fatalf("seq %d twice", e.seq)
			}
			seen[e.seq] = true
		}
		q = q[n:]
	}
	if len(seen) != 30_000 {
		t.Fatalf("%d events batched", len(seen))
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
		if got := validUTF8(tc.in); got != tc.want {
			t.Errorf("validUTF8(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if n := len(validUTF8(strings.Repeat("\xff", 10))); n != 30 {
		t.Errorf("10 invalid bytes size to %d, want 30", n)
	}
}
