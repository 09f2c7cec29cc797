package store

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestCatalogErrors(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	must(t, s.CreateGroup("g", map[string]string{"a": "1"}))
	must(t, s.CreateStream("g", "s"))

	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"create existing group", func() error { return s.CreateGroup("g", nil) }, ErrGroupExists},
		{"delete missing group", func() error { return s.DeleteGroup("nope") }, ErrGroupNotFound},
		{"describe missing group", func() error { _, err := s.Group("nope"); return err }, ErrGroupNotFound},
		{"retention of missing group", func() error { return s.SetRetention("nope", 1) }, ErrGroupNotFound},
		{"tag missing group", func() error { return s.TagGroup("nope", map[string]string{"k": "v"}) }, ErrGroupNotFound},
		{"untag missing group", func() error { return s.UntagGroup("nope", []string{"k"}) }, ErrGroupNotFound},
		{"create stream in missing group", func() error { return s.CreateStream("nope", "s") }, ErrGroupNotFound},
		{"create existing stream", func() error { return s.CreateStream("g", "s") }, ErrStreamExists},
		{"delete stream in missing group", func() error { return s.DeleteStream("nope", "s") }, ErrGroupNotFound},
		{"delete missing stream", func() error { return s.DeleteStream("g", "nope") }, ErrStreamNotFound},
		{"describe missing stream", func() error { _, err := s.Stream("g", "nope"); return err }, ErrStreamNotFound},
		{"list streams of missing group", func() error { _, err := s.Streams("nope"); return err }, ErrGroupNotFound},
		{"append to missing stream", func() error { _, _, err := s.Append("g", "nope", []Event{{1, "x"}}); return err }, ErrStreamNotFound},
		{"append to missing group", func() error { _, _, err := s.Append("nope", "s", []Event{{1, "x"}}); return err }, ErrGroupNotFound},
		{"read missing stream", func() error { _, err := s.Read("g", "nope", ReadOptions{Limit: 1}); return err }, ErrStreamNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}

	must(t, s.Close())
	for name, op := range map[string]func() error{
		"create group":  func() error { return s.CreateGroup("h", nil) },
		"create stream": func() error { return s.CreateStream("g", "t") },
		"append":        func() error { _, _, err := s.Append("g", "s", []Event{{1, "x"}}); return err },
		"read":          func() error { _, err := s.Read("g", "s", ReadOptions{Limit: 1}); return err },
		"retention":     func() error { return s.EnforceRetention() },
	} {
		if err := op(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: got %v, want ErrClosed", name, err)
		}
	}
}

func TestCatalogListing(t *testing.T) {
	clk := newClock()
	s := openStore(t, t.TempDir(), Options{Now: clk.Now})
	for _, g := range []string{"b", "a", "C", "a/b", "_"} {
		must(t, s.CreateGroup(g, nil))
	}
	var names []string
	for _, g := range s.Groups() {
		names = append(names, g.Name)
	}
	if want := []string{"C", "_", "a", "a/b", "b"}; !slicesEqual(names, want) {
		t.Fatalf("Groups() = %v, want %v (byte order)", names, want)
	}
	for _, st := range []string{"z", "y", "2019/01/01", "Y"} {
		must(t, s.CreateStream("a", st))
	}
	streams, err := s.Streams("a")
	must(t, err)
	names = nil
	for _, st := range streams {
		names = append(names, st.Name)
		if st.Group != "a" || st.CreationTime != clk.Now().UnixMilli() || st.StoredBytes != 0 || st.FirstEventTimestamp != 0 {
			t.Errorf("fresh stream %+v", st)
		}
	}
	if want := []string{"2019/01/01", "Y", "y", "z"}; !slicesEqual(names, want) {
		t.Fatalf("Streams() = %v, want %v", names, want)
	}

	must(t, s.DeleteGroup("a"))
	if _, err := s.Group("a"); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("deleted group still there: %v", err)
	}
	if _, err := s.Stream("a", "z"); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("stream of deleted group: %v", err)
	}
	if len(s.Groups()) != 4 {
		t.Fatalf("Groups() after delete: %v", s.Groups())
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTagsAndRetention(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	must(t, s.CreateGroup("g", map[string]string{"a": "1", "b": "2"}))
	must(t, s.TagGroup("g", map[string]string{"b": "3", "c": "4"}))
	must(t, s.UntagGroup("g", []string{"a", "missing"}))
	must(t, s.SetRetention("g", 7))
	want := map[string]string{"b": "3", "c": "4"}
	check := func(s *Store) {
		t.Helper()
		g, err := s.Group("g")
		must(t, err)
		if !maps.Equal(g.Tags, want) || g.RetentionDays != 7 {
			t.Fatalf("group %+v, want tags %v and 7 days", g, want)
		}
		g.Tags["mutate"] = "x" // must not leak into the store
	}
	check(s)
	check(s)
	if err := s.SetRetention("g", -1); err == nil {
		t.Fatal("negative retention accepted")
	}
	must(t, s.Close())
	s = openStore(t, dir, Options{})
	check(s)
	must(t, s.SetRetention("g", 0))
	g, _ := s.Group("g")
	if g.RetentionDays != 0 {
		t.Fatalf("retention not cleared: %+v", g)
	}
}

func TestReopenPreservesState(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	opts := Options{Now: clk.Now, SegmentBytes: 4 << 10}
	s := openStore(t, dir, opts)
	newStream(t, s, "g", "s1")
	newStream(t, s, "g", "s2")
	must(t, s.CreateGroup("other", map[string]string{"k": "v"}))
	must(t, s.SetRetention("other", 3))
	var m model
	for i := range 200 {
		clk.Advance(1000)
		evs := []Event{{int64(1000 + i), "hello " + strconv.Itoa(i)}, {int64(900 + i), "early"}}
		ingest, seq, err := s.Append("g", "s1", evs)
		must(t, err)
		m.add(seq, ingest, evs)
	}
	before := map[string]any{}
	for _, g := range s.Groups() {
		before[g.Name] = g
	}
	ss, _ := s.Streams("g")
	for _, st := range ss {
		before["stream "+st.Name] = st
	}
	if st := ss[0]; st.FirstEventTimestamp != 900 || st.LastEventTimestamp != 1199 || st.LastIngestionTime != clk.Now().UnixMilli() || st.StoredBytes == 0 {
		t.Fatalf("stats %+v", st)
	}
	must(t, s.Close())

	s = openStore(t, dir, opts)
	for _, g := range s.Groups() {
		if !equalGroup(before[g.Name].(Group), g) {
			t.Fatalf("group after reopen %+v, before %+v", g, before[g.Name])
		}
	}
	ss, _ = s.Streams("g")
	for _, st := range ss {
		if before["stream "+st.Name] != st {
			t.Fatalf("stream after reopen %+v, before %+v", st, before["stream "+st.Name])
		}
	}
	got := readAll(t, s, "g", "s1", ReadOptions{Limit: 37})
	sameEvents(t, "after reopen", got, m.sorted())
	seq := appendT(t, s, "g", "s1", Event{5000, "after"})
	if seq != 400 {
		t.Fatalf("seq after reopen = %d, want 400", seq)
	}
	// New ids continue after the old ones.
	must(t, s.CreateGroup("new", nil))
	g, _ := s.Group("new")
	for _, old := range before {
		if og, ok := old.(Group); ok && og.ID >= g.ID {
			t.Fatalf("new group id %d not above old id %d", g.ID, og.ID)
		}
	}
}

func equalGroup(a, b Group) bool {
	return a.ID == b.ID && a.Name == b.Name && a.CreationTime == b.CreationTime &&
		a.RetentionDays == b.RetentionDays && maps.Equal(a.Tags, b.Tags) && a.StoredBytes == b.StoredBytes
}

func TestRecreatedStreamIsEmpty(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	newStream(t, s, "g", "s")
	appendT(t, s, "g", "s", Event{1, "old"})
	old, _ := s.Stream("g", "s")
	must(t, s.DeleteStream("g", "s"))
	must(t, s.CreateStream("g", "s"))
	check := func(s *Store) {
		t.Helper()
		st, err := s.Stream("g", "s")
		must(t, err)
		if st.ID == old.ID || st.StoredBytes != 0 || st.LastEventTimestamp != 0 {
			t.Fatalf("recreated stream %+v, old %+v", st, old)
		}
		evs, err := s.Read("g", "s", ReadOptions{Limit: 10})
		must(t, err)
		if len(evs) != 0 {
			t.Fatalf("recreated stream has old events %v", evs)
		}
	}
	check(s)
	if _, err := os.Stat(filepath.Join(dir, "streams", strconv.FormatUint(old.ID, 10))); !os.IsNotExist(err) {
		t.Fatalf("old stream directory still there: %v", err)
	}
	must(t, s.Close())
	s = openStore(t, dir, Options{})
	check(s)

	// The same through a group.
	must(t, s.DeleteGroup("g"))
	newStream(t, s, "g", "s")
	check(s)
}

func TestOrphanDirectoriesSwept(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	newStream(t, s, "g", "s")
	appendT(t, s, "g", "s", Event{1, "kept"})
	must(t, s.Close())
	orphan := filepath.Join(dir, "streams", "999")
	must(t, os.MkdirAll(orphan, 0o755))
	must(t, os.WriteFile(filepath.Join(orphan, segFileName(0)), []byte("junk"), 0o644))
	s = openStore(t, dir, Options{})
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatalf("orphan not swept: %v", err)
	}
	evs, err := s.Read("g", "s", ReadOptions{Limit: 10})
	must(t, err)
	if len(evs) != 1 {
		t.Fatalf("live stream damaged: %v", evs)
	}
}

func TestMetaJournal(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	must(t, s.CreateGroup("g", nil))
	var lastID uint64
	for i := range 400 {
		name := "s" + strconv.Itoa(i)
		must(t, s.CreateStream("g", name))
		st, _ := s.Stream("g", name)
		if st.ID <= lastID {
			t.Fatalf("id %d not increasing after %d", st.ID, lastID)
		}
		lastID = st.ID
		if i%2 == 0 {
			must(t, s.DeleteStream("g", name))
		}
	}
	// 1 + 400 + 200 records for 1 + 200 live ones: not yet worth compacting.
	// Churn some more so that it is.
	for i := range 300 {
		must(t, s.TagGroup("g", map[string]string{"k": strconv.Itoa(i)}))
	}
	fi, err := os.Stat(filepath.Join(dir, metaFileName))
	must(t, err)
	if s.journal.records > 2*s.liveMetaRecords()+compactSlack {
		t.Fatalf("journal of %d records for %d live ones was not compacted", s.journal.records, s.liveMetaRecords())
	}
	must(t, s.Close())

	// A torn append at the end of the journal is cut on open.
	f, err := os.OpenFile(filepath.Join(dir, metaFileName), os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	frame := frameRecord((&metaRec{op: opCreateGroup, id: 10_000, name: "torn"}).encode())
	_, err = f.Write(frame[:len(frame)-3])
	must(t, err)
	f.Close()

	s = openStore(t, dir, Options{})
	if _, err := s.Group("torn"); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("torn record applied: %v", err)
	}
	ss, err := s.Streams("g")
	must(t, err)
	if len(ss) != 200 {
		t.Fatalf("%d streams after reopen, want 200", len(ss))
	}
	g, _ := s.Group("g")
	if g.Tags["k"] != "299" {
		t.Fatalf("tags after compaction and reopen: %v", g.Tags)
	}
	// Ids of deleted streams are not reused, even though the compacted
	// journal no longer mentions them.
	must(t, s.CreateStream("g", "fresh"))
	st, _ := s.Stream("g", "fresh")
	if st.ID <= lastID {
		t.Fatalf("id %d reused (last was %d)", st.ID, lastID)
	}
	if fi2, _ := os.Stat(filepath.Join(dir, metaFileName)); fi2.Size() > fi.Size()+1024 {
		t.Fatalf("journal grew from %d to %d", fi.Size(), fi2.Size())
	}
	must(t, s.Close())

	// Corruption followed by more records is not silently dropped.
	data, err := os.ReadFile(filepath.Join(dir, metaFileName))
	must(t, err)
	data[recHeaderLen+1] ^= 0xff
	must(t, os.WriteFile(filepath.Join(dir, metaFileName), data, 0o644))
	if s, err := Open(dir, Options{}); err == nil {
		s.Close()
		t.Fatal("Open accepted a journal corrupt in the middle")
	}
}
