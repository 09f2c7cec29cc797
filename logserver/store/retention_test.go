package store

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetention(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	opts := Options{Now: clk.Now, SegmentAge: time.Hour}
	s := openStore(t, dir, opts)
	newStream(t, s, "g", "s")
	newStream(t, s, "keep", "s")
	must(t, s.SetRetention("g", 1))
	day := int64(dayMillis)

	// One segment per hour for two days, events stamped at ingestion.
	var m model
	for h := range 48 {
		now := clk.Now().UnixMilli()
		evs := []Event{{now, fmt.Sprint("hour ", h)}, {now + 1, "b"}}
		ingest, seq, err := s.Append("g", "s", evs)
		must(t, err)
		m.add(seq, ingest, evs)
		appendT(t, s, "keep", "s", Event{now, "forever"})
		clk.Advance(time.Hour)
	}
	st := s.groups["g"].streams["s"]
	if len(st.segs) != 48 {
		t.Fatalf("%d segments, want 48", len(st.segs))
	}
	before, _ := s.Stream("g", "s")
	must(t, s.EnforceRetention())

	cutoff := clk.Now().UnixMilli() - day
	want := m.filter(func(e StoredEvent) bool { return e.Timestamp >= cutoff })
	got := readAll(t, s, "g", "s", ReadOptions{Limit: 7, MinTimestamp: cutoff})
	sameEvents(t, "in retention", got, want)
	// Whole expired segments are gone from disk; the one straddling the
	// cutoff stays.
	var files int
	entries, _ := os.ReadDir(st.dir)
	for _, e := range entries {
		if _, ext, _ := parseSegFileName(e.Name()); ext == "seg" {
			files++
		}
	}
	if files != 24 && files != 25 {
		t.Fatalf("%d segment files after retention, want 24 or 25", files)
	}
	after, _ := s.Stream("g", "s")
	if after.StoredBytes >= before.StoredBytes || after.FirstEventTimestamp < cutoff-time.Hour.Milliseconds() || after.LastEventTimestamp != before.LastEventTimestamp {
		t.Fatalf("stats after retention %+v, before %+v", after, before)
	}
	if n := len(readAll(t, s, "keep", "s", ReadOptions{Limit: 100})); n != 48 {
		t.Fatalf("group without retention lost events: %d left", n)
	}

	// An idle stream's active segment is sealed and deleted once all of it
	// has expired.
	clk.Advance(3 * 24 * time.Hour)
	must(t, s.EnforceRetention())
	after, _ = s.Stream("g", "s")
	if after.StoredBytes != 0 || after.LastEventTimestamp != 0 {
		t.Fatalf("stats after everything expired %+v", after)
	}
	evs, err := s.Read("g", "s", ReadOptions{Limit: 10})
	must(t, err)
	if len(evs) != 0 {
		t.Fatalf("expired events still read: %v", evs)
	}
	seq := appendT(t, s, "g", "s", Event{clk.Now().UnixMilli(), "new"})
	if seq != uint64(len(m.events)) {
		t.Fatalf("seq after retention %d, want %d", seq, len(m.events))
	}
	checkNoDeletedOpen(t)
	must(t, s.Close())
	s = openStore(t, dir, opts)
	evs, err = s.Read("g", "s", ReadOptions{Limit: 10})
	must(t, err)
	if len(evs) != 1 || evs[0].Seq != seq {
		t.Fatalf("after reopen %+v", evs)
	}
}

// TestDeleteDuringReads runs reads against streams that retention and
// deletion remove underneath them: every read must either succeed with
// well-formed events or fail with ErrStreamNotFound, never with I/O errors
// from vanished files or garbage.
func TestDeleteDuringReads(t *testing.T) {
	clk := newClock()
	s := openStore(t, t.TempDir(), Options{Now: clk.Now, SegmentBytes: 1 << 10, NoSync: true})
	must(t, s.CreateGroup("g", nil))
	must(t, s.SetRetention("g", 1))
	var stop atomic.Bool
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Go(func() {
			for !stop.Load() {
				st := fmt.Sprint("s", r%2)
				evs, err := s.Read("g", st, ReadOptions{Limit: 50, Backward: r >= 2})
				if err != nil && !errors.Is(err, ErrStreamNotFound) {
					t.Error(err)
					return
				}
				for _, e := range evs {
					if e.Message != fmt.Sprint("m", e.Timestamp) {
						t.Errorf("garbage event %+v", e)
						return
					}
				}
			}
		})
	}
	for round := range 30 {
		for i := range 2 {
			st := fmt.Sprint("s", i)
			if err := s.CreateStream("g", st); err != nil && !errors.Is(err, ErrStreamExists) {
				t.Fatal(err)
			}
			for k := range 40 {
				ts := clk.Now().UnixMilli() - int64(40-k)*3*time.Hour.Milliseconds()
				if _, _, err := s.Append("g", st, []Event{{ts, fmt.Sprint("m", ts)}}); err != nil {
					t.Fatal(err)
				}
			}
		}
		clk.Advance(time.Hour)
		must(t, s.EnforceRetention())
		must(t, s.DeleteStream("g", fmt.Sprint("s", round%2)))
	}
	stop.Store(true)
	wg.Wait()
	checkNoDeletedOpen(t)
}

// checkNoDeletedOpen fails if the process still holds a descriptor of an
// unlinked file, whose disk space would then never be freed.
func checkNoDeletedOpen(t *testing.T) {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	for _, fd := range fds {
		target, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if err == nil && strings.HasSuffix(target, " (deleted)") && strings.Contains(target, ".seg") {
			t.Errorf("descriptor %s still open on %s", fd.Name(), target)
		}
	}
}
