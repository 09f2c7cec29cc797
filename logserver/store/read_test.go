package store

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// buildRandomStream appends records whose timestamps overlap and go back and
// forth, across several segments and many blocks.
func buildRandomStream(t *testing.T, s *Store, records int) *model {
	t.Helper()
	newStream(t, s, "g", "s")
	r := rand.New(rand.NewPCG(1, 2))
	m := &model{}
	base := int64(1_000_000)
	for i := range records {
		// Mostly moving forward, sometimes far back, sometimes duplicates.
		base += r.Int64N(50)
		ts := base
		if i%17 == 0 {
			ts -= 5000
		}
		evs := randomEvents(r, 1+r.IntN(8), ts, 30, "r")
		if i%29 == 0 {
			evs = append(evs, Event{Timestamp: evs[0].Timestamp, Message: "dup"})
		}
		ingest, seq, err := s.Append("g", "s", evs)
		must(t, err)
		m.add(seq, ingest, evs)
	}
	return m
}

func TestReadPagination(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{SegmentBytes: 16 << 10, NoSync: true})
	m := buildRandomStream(t, s, 1500)
	if n := len(s.streamsByID[s.groups["g"].streams["s"].id].segs); n < 5 {
		t.Fatalf("only %d segments; the test wants several", n)
	}
	all := m.sorted()
	lo, hi := all[0].Timestamp, all[len(all)-1].Timestamp
	mid := (lo + hi) / 2
	ranges := []struct {
		name string
		r    Range
		min  int64
	}{
		{"everything", Range{}, 0},
		{"start only", Range{Start: mid}, 0},
		{"end only", Range{End: mid}, 0},
		{"window", Range{Start: mid - 3000, End: mid + 3000}, 0},
		{"single ms", Range{Start: all[100].Timestamp, End: all[100].Timestamp + 1}, 0},
		{"empty window", Range{Start: mid, End: mid}, 0},
		{"inverted window", Range{Start: mid + 10, End: mid}, 0},
		{"before all", Range{End: lo}, 0},
		{"after all", Range{Start: hi + 1}, 0},
		{"min timestamp", Range{End: mid + 1000}, mid - 1000},
	}
	for _, rg := range ranges {
		want := m.filter(func(e StoredEvent) bool {
			return e.Timestamp >= rg.r.Start && (rg.r.End == 0 || e.Timestamp < rg.r.End) && e.Timestamp >= rg.min
		})
		for _, limit := range []int{1, 3, 64, 10_000} {
			for _, backward := range []bool{false, true} {
				name := rg.name
				if backward {
					name += " backward"
				}
				got := readAll(t, s, "g", "s", ReadOptions{Range: rg.r, MinTimestamp: rg.min, Limit: limit, Backward: backward})
				sameEvents(t, name, got, want)
			}
		}
	}
}

func TestReadFirstPage(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{SegmentBytes: 16 << 10, NoSync: true})
	m := buildRandomStream(t, s, 600)
	all := m.sorted()
	for _, limit := range []int{1, 10, 100} {
		fwd, err := s.Read("g", "s", ReadOptions{Limit: limit})
		must(t, err)
		sameEvents(t, "first page", fwd, all[:limit])
		bwd, err := s.Read("g", "s", ReadOptions{Limit: limit, Backward: true})
		must(t, err)
		sameEvents(t, "last page", bwd, all[len(all)-limit:])
	}
	// Resuming strictly after an event with duplicates of its timestamp.
	for i := range all {
		if i > 0 && all[i].Timestamp == all[i-1].Timestamp {
			p := &Position{all[i-1].Timestamp, all[i-1].Seq}
			got, err := s.Read("g", "s", ReadOptions{Limit: 1, After: p})
			must(t, err)
			sameEvents(t, "after duplicate", got, all[i:i+1])
			p = &Position{all[i].Timestamp, all[i].Seq}
			got, err = s.Read("g", "s", ReadOptions{Limit: 1, After: p, Backward: true})
			must(t, err)
			sameEvents(t, "before duplicate", got, all[i-1:i])
			break
		}
	}
}

func TestReadBounds(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	newStream(t, s, "g", "s")
	appendT(t, s, "g", "s", Event{10, "a"}, Event{20, "b"}, Event{30, "c"})
	appendT(t, s, "g", "s", Event{15, "d"}, Event{20, "e"})
	tests := []struct {
		r    Range
		want string
	}{
		{Range{}, "adbec"},
		{Range{Start: 10, End: 30}, "adbe"},
		{Range{Start: 11, End: 31}, "dbec"},
		{Range{Start: 20, End: 21}, "be"},
		{Range{Start: 20, End: 20}, ""},
		{Range{Start: 31}, ""},
		{Range{End: 10}, ""},
		{Range{End: 11}, "a"},
	}
	for _, tt := range tests {
		for _, backward := range []bool{false, true} {
			evs, err := s.Read("g", "s", ReadOptions{Range: tt.r, Limit: 100, Backward: backward})
			must(t, err)
			var got strings.Builder
			for _, e := range evs {
				got.WriteString(e.Message)
			}
			if got.String() != tt.want {
				t.Errorf("range %+v backward=%v: got %q, want %q", tt.r, backward, got.String(), tt.want)
			}
		}
	}
	// Positions between events, as the API layer builds them to resume a
	// merged read: Seq MaxUint64 sorts after every event at its timestamp.
	positions := []struct {
		after    Position
		backward bool
		want     string
	}{
		{Position{20, math.MaxUint64}, false, "c"},
		{Position{19, math.MaxUint64}, false, "bec"},
		{Position{math.MinInt64, math.MaxUint64}, false, "adbec"},
		{Position{19, math.MaxUint64}, true, "ad"},
		{Position{20, math.MaxUint64}, true, "adbe"},
		{Position{20, 1}, true, "ad"},
		{Position{20, 1}, false, "ec"},
		{Position{math.MaxInt64, math.MaxUint64}, true, "adbec"},
	}
	for _, tt := range positions {
		evs, err := s.Read("g", "s", ReadOptions{After: &tt.after, Limit: 100, Backward: tt.backward})
		must(t, err)
		var got strings.Builder
		for _, e := range evs {
			got.WriteString(e.Message)
		}
		if got.String() != tt.want {
			t.Errorf("after %+v backward=%v: got %q, want %q", tt.after, tt.backward, got.String(), tt.want)
		}
	}
	if _, err := s.Read("g", "s", ReadOptions{}); err == nil {
		t.Error("Limit 0 accepted")
	}
}

func TestReadMaxBytes(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	newStream(t, s, "g", "s")
	var evs []Event
	for i := range 10 {
		evs = append(evs, Event{int64(i), strings.Repeat(string(rune('a'+i)), 10)}) // 36 bytes each
	}
	appendT(t, s, "g", "s", evs...)
	tests := []struct {
		maxBytes, limit int
		backward        bool
		want            string // first letters
	}{
		{0, 100, false, "abcdefghij"},
		{36 * 3, 100, false, "abc"},
		{36*3 + 35, 100, false, "abc"},
		{36 * 3, 2, false, "ab"},
		{36 * 3, 100, true, "hij"},
		{36*3 - 1, 100, true, "ij"},
		{35, 100, false, ""},
	}
	for _, tt := range tests {
		got, err := s.Read("g", "s", ReadOptions{Limit: tt.limit, MaxBytes: tt.maxBytes, Backward: tt.backward})
		must(t, err)
		var b strings.Builder
		for _, e := range got {
			b.WriteByte(e.Message[0])
		}
		if b.String() != tt.want {
			t.Errorf("%+v: got %q", tt, b.String())
		}
	}
}

func TestAppendUnsortedBatch(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	newStream(t, s, "g", "s")
	in := []Event{{30, "c"}, {10, "a"}, {20, "b1"}, {20, "b2"}}
	seq := appendT(t, s, "g", "s", in...)
	if in[0].Message != "c" {
		t.Fatal("Append reordered the caller's slice")
	}
	evs, err := s.Read("g", "s", ReadOptions{Limit: 10})
	must(t, err)
	var got []string
	for i, e := range evs {
		got = append(got, e.Message)
		if e.Seq != seq+uint64(i) {
			t.Fatalf("seqs %v", evs)
		}
	}
	if !slicesEqual(got, []string{"a", "b1", "b2", "c"}) {
		t.Fatalf("got %v", got)
	}
	if _, _, err := s.Append("g", "s", nil); err == nil {
		t.Fatal("empty append accepted")
	}
}

func TestReadCorruptSealedSegment(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{SegmentBytes: 1 << 10})
	newStream(t, s, "g", "s")
	for i := range 100 {
		appendT(t, s, "g", "s", Event{int64(i), strings.Repeat("m", 50)})
	}
	st := s.groups["g"].streams["s"]
	g := st.segs[0]
	// Flip a byte inside the second record's payload behind the store's back.
	flipByte(t, g.path, g.recs[1].off+recHeaderLen+payloadHeaderLen+3)
	_, err := s.Read("g", "s", ReadOptions{Limit: 100})
	if err == nil || !errors.Is(err, errChecksum) || !strings.Contains(err.Error(), g.path) || !strings.Contains(err.Error(), "offset") {
		t.Fatalf("read of corrupt record: %v", err)
	}
	// Reads that do not touch the bad record still work.
	evs, err := s.Read("g", "s", ReadOptions{Limit: 10, Backward: true})
	must(t, err)
	if len(evs) != 10 || evs[9].Timestamp != 99 {
		t.Fatalf("tail read: %v", evs)
	}
}

// TestReadTouchesOnlyCandidates checks that reads are driven by the index:
// a narrow window or a short page reads few records, however long the
// stream, including when late records overlap the window.
func TestReadTouchesOnlyCandidates(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{SegmentBytes: 256 << 10, NoSync: true})
	newStream(t, s, "g", "s")
	const records = 20_000
	for i := range records {
		ts := int64(i * 10)
		if i%1000 == 999 {
			ts = 50_000 // a late record, overlapping the window below
		}
		appendT(t, s, "g", "s", Event{ts, "a"}, Event{ts + 5, "b"})
	}
	st := s.groups["g"].streams["s"]
	tests := []struct {
		name       string
		opts       ReadOptions
		events     int
		maxScanned int
	}{
		{"window", ReadOptions{Range: Range{Start: 50_000, End: 50_100}, Limit: 1000}, 2*10 + 2*20, 10 + 20},
		{"head", ReadOptions{Limit: 10}, 10, 5},
		{"tail", ReadOptions{Limit: 10, Backward: true}, 10, 5},
		{"window head", ReadOptions{Range: Range{Start: 100_000}, Limit: 4}, 4, 2},
		{"window tail", ReadOptions{Range: Range{End: 100_000}, Limit: 4, Backward: true}, 4, 2},
		{"bytes bound", ReadOptions{Limit: 1000, MaxBytes: 27 * 10}, 10, 5},
	}
	for _, tt := range tests {
		rd, err := st.read(tt.opts)
		must(t, err)
		n, scanned := len(rd.page.events(st.id)), rd.scanned
		rd.close()
		if n != tt.events || scanned > tt.maxScanned {
			t.Errorf("%s: %d events from %d records; want %d events from at most %d records", tt.name, n, scanned, tt.events, tt.maxScanned)
		}
	}
}

// TestReadOracle compares random reads with a brute-force answer computed
// from the model.
func TestReadOracle(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{SegmentBytes: 16 << 10, NoSync: true})
	m := buildRandomStream(t, s, 800)
	all := m.sorted()
	lo, hi := all[0].Timestamp, all[len(all)-1].Timestamp
	r := rand.New(rand.NewPCG(7, 8))
	ts := func() int64 { return lo - 100 + r.Int64N(hi-lo+200) }
	for q := range 3000 {
		var o ReadOptions
		if r.IntN(2) == 0 {
			o.Range.Start = ts()
		}
		if r.IntN(2) == 0 {
			o.Range.End = ts()
		}
		if r.IntN(4) == 0 {
			o.MinTimestamp = ts()
		}
		o.Backward = r.IntN(2) == 0
		o.Limit = 1 + r.IntN(40)
		if r.IntN(3) == 0 {
			o.MaxBytes = r.IntN(3000)
		}
		if r.IntN(2) == 0 {
			e := all[r.IntN(len(all))]
			o.After = &Position{e.Timestamp, e.Seq}
			if r.IntN(4) == 0 {
				o.After.Seq = math.MaxUint64
			}
		}
		want := filterSorted(all, func(e StoredEvent) bool {
			if e.Timestamp < o.Range.Start || (o.Range.End != 0 && e.Timestamp >= o.Range.End) || e.Timestamp < o.MinTimestamp {
				return false
			}
			if a := o.After; a != nil {
				ep, ap := hitKey{ts: e.Timestamp, seq: e.Seq}, hitKey{ts: a.Timestamp, seq: a.Seq}
				if o.Backward {
					return before(ep, ap)
				}
				return before(ap, ep)
			}
			return true
		})
		if o.Backward {
			want = want[max(0, len(want)-o.Limit):]
		} else {
			want = want[:min(len(want), o.Limit)]
		}
		if o.MaxBytes > 0 {
			n, total := 0, 0
			for n < len(want) {
				e := want[n]
				if o.Backward {
					e = want[len(want)-1-n]
				}
				if total += len(e.Message) + 26; total > o.MaxBytes {
					break
				}
				n++
			}
			if o.Backward {
				want = want[len(want)-n:]
			} else {
				want = want[:n]
			}
		}
		got, err := s.Read("g", "s", o)
		must(t, err)
		sameEvents(t, fmt.Sprintf("query %d %+v", q, o), got, want)
	}
}

func TestReadMatch(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{NoSync: true})
	newStream(t, s, "g", "s")
	var evs []Event
	for i := 0; i < 1000; i++ {
		evs = append(evs, Event{Timestamp: int64(1000 + i), Message: fmt.Sprintf("event %d %s", i, map[bool]string{true: "ERROR", false: "INFO"}[i%7 == 0])})
	}
	if _, _, err := s.Append("g", "s", evs); err != nil {
		t.Fatal(err)
	}
	isErr := func(m []byte) bool { return bytes.Contains(m, []byte("ERROR")) }
	var got []StoredEvent
	var after *Position
	for {
		page, err := s.Read("g", "s", ReadOptions{Limit: 10, After: after, Match: isErr})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		last := page[len(page)-1]
		after = &Position{Timestamp: last.Timestamp, Seq: last.Seq}
	}
	if len(got) != 143 {
		t.Fatalf("matched %d events, want 143", len(got))
	}
	for i, ev := range got {
		if ev.Timestamp != int64(1000+7*i) {
			t.Fatalf("match %d at %d", i, ev.Timestamp)
		}
	}
}
