package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestScan: every event in the range once, across sealed and active
// segments and records larger than one read; seqs and ingestion times as
// stored; an early stop; the retention cutoff; a missing stream.
func TestScan(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{NoSync: true, SegmentBytes: 64 << 10})
	newStream(t, s, "g", "s")
	big := strings.Repeat("x", scanChunk+10) // one record above the read size
	var want []string
	for b := 0; b < 40; b++ {
		var evs []Event
		for i := 0; i < 50; i++ {
			evs = append(evs, Event{Timestamp: int64(b*100 + i), Message: fmt.Sprintf("m%d-%d", b, i)})
		}
		if b == 20 {
			evs = append(evs, Event{Timestamp: 2099, Message: big})
		}
		appendT(t, s, "g", "s", evs...)
	}
	for b := 0; b < 40; b++ {
		for i := 0; i < 50; i++ {
			want = append(want, fmt.Sprintf("m%d-%d", b, i))
		}
	}
	collect := func(rng Range, minTs int64, stopAfter int) ([]string, ScanStats) {
		var got []string
		seqs := map[uint64]bool{}
		st, err := s.Scan("g", "s", rng, minTs, func(ev *ScanEvent) bool {
			if seqs[ev.Seq] {
				t.Fatalf("seq %d twice", ev.Seq)
			}
			seqs[ev.Seq] = true
			if ev.IngestionTime == 0 {
				t.Fatal("no ingestion time")
			}
			if ev.Timestamp < max(rng.Start, minTs) || rng.End != 0 && ev.Timestamp >= rng.End {
				t.Fatalf("event at %d outside %+v/%d", ev.Timestamp, rng, minTs)
			}
			if len(ev.Message) < 1000 {
				got = append(got, string(ev.Message))
			}
			return stopAfter == 0 || len(got) < stopAfter
		})
		must(t, err)
		return got, st
	}
	got, st := collect(Range{}, 0, 0)
	if strings.Join(got, ",") != strings.Join(want, ",") || st.Events != int64(len(want))+1 || st.Bytes < int64(len(big)) {
		t.Fatalf("whole stream: %d events, stats %+v", len(got), st)
	}
	if got, _ := collect(Range{Start: 1000, End: 1100}, 0, 0); len(got) != 50 || got[0] != "m10-0" {
		t.Fatalf("range: %v", got)
	}
	if got, _ := collect(Range{}, 3900, 0); len(got) != 50 || got[0] != "m39-0" {
		t.Fatalf("cutoff: %v", got)
	}
	if got, _ := collect(Range{}, 0, 7); len(got) != 7 {
		t.Fatalf("early stop: %d", len(got))
	}
	if _, err := s.Scan("g", "nope", Range{}, 0, func(*ScanEvent) bool { return true }); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("missing stream: %v", err)
	}
	if st, err := s.StreamByID("g", 999); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("StreamByID: %+v %v", st, err)
	}
}
