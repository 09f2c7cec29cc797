package store

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConcurrentAppends(t *testing.T) {
	const writers, perWriter = 32, 40
	tests := []struct {
		name    string
		streams int
	}{
		{"one stream", 1},
		{"stream per writer", writers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t, t.TempDir(), Options{SegmentBytes: 32 << 10})
			for i := range tt.streams {
				newStream(t, s, "g", fmt.Sprint("s", i))
			}
			type res struct {
				stream string
				seq    uint64
				n      int
			}
			results := make(chan res, writers*perWriter)
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					st := fmt.Sprint("s", w%tt.streams)
					for i := range perWriter {
						n := 1 + (w+i)%3
						evs := make([]Event, n)
						for k := range evs {
							evs[k] = Event{int64(1000 + (i*7+w)%50), fmt.Sprintf("w%d-i%d-k%d", w, i, k)}
						}
						_, seq, err := s.Append("g", st, evs)
						if err != nil {
							t.Error(err)
							return
						}
						results <- res{st, seq, n}
					}
				})
			}
			wg.Wait()
			close(results)
			// Seq ranges of appends to one stream must not overlap.
			owner := map[string]map[uint64]bool{}
			total := 0
			for r := range results {
				if owner[r.stream] == nil {
					owner[r.stream] = map[uint64]bool{}
				}
				for k := range uint64(r.n) {
					if owner[r.stream][r.seq+k] {
						t.Fatalf("seq %d of %s handed out twice", r.seq+k, r.stream)
					}
					owner[r.stream][r.seq+k] = true
				}
				total += r.n
			}
			seen := map[string]bool{}
			read := 0
			for i := range tt.streams {
				st := fmt.Sprint("s", i)
				for _, backward := range []bool{false, true} {
					evs := readAll(t, s, "g", st, ReadOptions{Limit: 50, Backward: backward})
					for _, e := range evs {
						key := fmt.Sprint(backward, e.Message)
						if seen[key] || !owner[st][e.Seq] {
							t.Fatalf("event %+v read twice or with a seq never handed out", e)
						}
						seen[key] = true
					}
					if !backward {
						read += len(evs)
					}
				}
			}
			if read != total {
				t.Fatalf("read %d events, appended %d", read, total)
			}
		})
	}
}

// TestGroupCommitBatches makes fsync slow so that concurrent appends pile up
// behind it, and checks that they shared writes and fsyncs.
func TestGroupCommitBatches(t *testing.T) {
	fs := &faults{syncDelay: 2 * time.Millisecond}
	s := openStore(t, t.TempDir(), Options{wrapFile: fs.wrap})
	newStream(t, s, "g", "s")
	fs.mu.Lock()
	fs.writes = 0
	fs.mu.Unlock()
	syncs0 := s.syncs.Load()
	const writers, perWriter = 32, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				if _, _, err := s.Append("g", "s", []Event{{int64(i), fmt.Sprint(w, "-", i)}}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	appends := writers * perWriter
	syncs := int(s.syncs.Load() - syncs0)
	fs.mu.Lock()
	writes := fs.writes
	fs.mu.Unlock()
	t.Logf("%d appends: %d writes, %d fsyncs", appends, writes, syncs)
	if syncs >= appends/4 || writes != syncs {
		t.Fatalf("%d appends took %d writes and %d fsyncs; group commit should share them", appends, writes, syncs)
	}
	evs := readAll(t, s, "g", "s", ReadOptions{Limit: 1000})
	if len(evs) != appends {
		t.Fatalf("read %d events, want %d", len(evs), appends)
	}
}

func TestSubscribe(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	newStream(t, s, "g", "s")
	var mu sync.Mutex
	var got []string
	cancel := s.Subscribe(func(g, st string, evs []StoredEvent) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range evs {
			got = append(got, fmt.Sprintf("%s/%s:%d:%s", g, st, e.Seq, e.Message))
		}
	})
	appendT(t, s, "g", "s", Event{2, "b"}, Event{1, "a"})
	cancel()
	cancel()
	appendT(t, s, "g", "s", Event{3, "c"})
	want := "g/s:0:a g/s:1:b"
	if strings.Join(got, " ") != want {
		t.Fatalf("subscriber saw %v, want %s", got, want)
	}
}

func TestSubscriberPanicDoesNotWedgeStream(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	newStream(t, s, "g", "s")
	cancel := s.Subscribe(func(string, string, []StoredEvent) { panic("boom") })
	func() {
		defer func() {
			if recover() == nil {
				t.Error("subscriber panic vanished")
			}
		}()
		s.Append("g", "s", []Event{{1, "a"}})
	}()
	cancel()
	done := make(chan error)
	go func() { _, _, err := s.Append("g", "s", []Event{{2, "b"}}); done <- err }()
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("append after a subscriber panic hangs")
	}
	evs, err := s.Read("g", "s", ReadOptions{Limit: 10})
	must(t, err)
	if len(evs) != 2 {
		t.Fatalf("read %v", evs)
	}
}

func TestSegmentRollByAge(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	s := openStore(t, dir, Options{Now: clk.Now, SegmentAge: time.Minute})
	newStream(t, s, "g", "s")
	for i := range 5 {
		appendT(t, s, "g", "s", Event{int64(i), "x"})
		clk.Advance(61 * time.Second)
	}
	st := s.groups["g"].streams["s"]
	if n := len(st.segs); n != 5 {
		t.Fatalf("%d segments, want 5 (one per minute)", n)
	}
	for i, g := range st.segs {
		if g.base != uint64(i) || g.sealed != (i < 4) {
			t.Fatalf("segment %d: base %d sealed %v", i, g.base, g.sealed)
		}
	}
	must(t, s.Close())
	s = openStore(t, dir, Options{Now: clk.Now, SegmentAge: time.Minute})
	evs, err := s.Read("g", "s", ReadOptions{Limit: 10})
	must(t, err)
	if len(evs) != 5 {
		t.Fatalf("read %v", evs)
	}
}
