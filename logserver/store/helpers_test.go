package store

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.UnixMilli(1_700_000_000_000)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openStore(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newStream creates group g and stream st in s.
func newStream(t testing.TB, s *Store, g, st string) {
	t.Helper()
	if err := s.CreateGroup(g, nil); err != nil && !errors.Is(err, ErrGroupExists) {
		t.Fatal(err)
	}
	must(t, s.CreateStream(g, st))
}

func appendT(t testing.TB, s *Store, g, st string, evs ...Event) uint64 {
	t.Helper()
	_, seq, err := s.Append(g, st, evs)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return seq
}

// readAll pages through a stream with limit per page, forward or backward,
// and returns the events in ascending order.
func readAll(t testing.TB, s *Store, g, st string, opts ReadOptions) []StoredEvent {
	t.Helper()
	var pagesRead [][]StoredEvent
	for pages := 0; ; pages++ {
		if pages > 1_000_000 {
			t.Fatal("pagination does not end")
		}
		page, err := s.Read(g, st, opts)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if len(page) == 0 {
			break
		}
		if !slices.IsSortedFunc(page, cmpStored) {
			t.Fatalf("page not in (timestamp, seq) order: %v", page)
		}
		if len(page) > opts.Limit {
			t.Fatalf("page of %d events exceeds limit %d", len(page), opts.Limit)
		}
		pagesRead = append(pagesRead, page)
		if opts.Backward {
			opts.After = &Position{page[0].Timestamp, page[0].Seq}
		} else {
			last := page[len(page)-1]
			opts.After = &Position{last.Timestamp, last.Seq}
		}
	}
	if opts.Backward {
		slices.Reverse(pagesRead)
	}
	return slices.Concat(pagesRead...)
}

func cmpStored(a, b StoredEvent) int {
	if c := cmp.Compare(a.Timestamp, b.Timestamp); c != 0 {
		return c
	}
	return cmp.Compare(a.Seq, b.Seq)
}

// model is what a stream should hold: every appended event with the seq the
// store assigned, so reads can be checked against a plain sort.
type model struct {
	events []StoredEvent
}

func (m *model) add(seq uint64, ingest int64, evs []Event) {
	sorted := slices.Clone(evs)
	slices.SortStableFunc(sorted, func(a, b Event) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
	for i, e := range sorted {
		m.events = append(m.events, StoredEvent{Timestamp: e.Timestamp, IngestionTime: ingest, Message: e.Message, Seq: seq + uint64(i)})
	}
}

func (m *model) sorted() []StoredEvent {
	out := slices.Clone(m.events)
	slices.SortFunc(out, cmpStored)
	return out
}

func (m *model) filter(keep func(StoredEvent) bool) []StoredEvent {
	return filterSorted(m.sorted(), keep)
}

func filterSorted(evs []StoredEvent, keep func(StoredEvent) bool) []StoredEvent {
	var out []StoredEvent
	for _, e := range evs {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// sameEvents compares ignoring StreamID (the model does not know it).
func sameEvents(t testing.TB, what string, got, want []StoredEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		g.StreamID, w.StreamID = 0, 0
		if g != w {
			t.Fatalf("%s: event %d: got %+v, want %+v", what, i, g, w)
		}
	}
}

// randomEvents makes n events with timestamps around base ± spread, in
// random order, with messages that identify them.
func randomEvents(r *rand.Rand, n int, base, spread int64, tag string) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = Event{
			Timestamp: base + r.Int64N(2*spread+1) - spread,
			Message:   fmt.Sprintf("%s-%d-%s", tag, i, strings.Repeat("x", r.IntN(40))),
		}
	}
	return evs
}

// faults injects failures into the files the store writes.
type faults struct {
	mu        sync.Mutex
	writeErr  error // fail the next WriteAt after writing half of it
	syncErr   error // fail the next Sync
	truncErr  error // fail every Truncate while set
	syncDelay time.Duration
	writes    int
}

func (fs *faults) wrap(f file) file { return &faultFile{file: f, fs: fs} }

type faultFile struct {
	file
	fs *faults
}

func (f *faultFile) WriteAt(b []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	err := f.fs.writeErr
	f.fs.writeErr = nil
	f.fs.writes++
	f.fs.mu.Unlock()
	if err != nil {
		n, _ := f.file.WriteAt(b[:len(b)/2], off)
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: err}
	}
	return f.file.WriteAt(b, off)
}

func (f *faultFile) Sync() error {
	f.fs.mu.Lock()
	err, d := f.fs.syncErr, f.fs.syncDelay
	f.fs.syncErr = nil
	f.fs.mu.Unlock()
	if d > 0 {
		time.Sleep(d)
	}
	if err != nil {
		return &os.PathError{Op: "sync", Path: f.Name(), Err: err}
	}
	return f.file.Sync()
}

func (f *faultFile) Truncate(n int64) error {
	f.fs.mu.Lock()
	err := f.fs.truncErr
	f.fs.mu.Unlock()
	if err != nil {
		return &os.PathError{Op: "truncate", Path: f.Name(), Err: err}
	}
	return f.file.Truncate(n)
}
