package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	must(t, err)
	defer f.Close()
	b := make([]byte, 1)
	_, err = f.ReadAt(b, off)
	must(t, err)
	b[0] ^= 0x40
	_, err = f.WriteAt(b, off)
	must(t, err)
}

func activePath(s *Store, g, st string) string {
	return s.groups[g].streams[st].active.path
}

func TestCrashRecovery(t *testing.T) {
	tests := []struct {
		name string
		// damage hurts the active segment at path, whose last record
		// starts at lastOff; it reports whether that record survives.
		damage func(t *testing.T, path string, lastOff, size int64) (lastSurvives bool)
	}{
		{"garbage appended", func(t *testing.T, path string, _, _ int64) bool {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			must(t, err)
			_, err = f.Write([]byte("\x13\x00\x00\x00garbage that is not a record"))
			must(t, err)
			f.Close()
			return true
		}},
		{"zeros appended", func(t *testing.T, path string, _, size int64) bool {
			must(t, os.Truncate(path, size+4096))
			return true
		}},
		{"last record cut mid-way", func(t *testing.T, path string, lastOff, size int64) bool {
			must(t, os.Truncate(path, lastOff+(size-lastOff)/2))
			return false
		}},
		{"last record cut inside its header", func(t *testing.T, path string, lastOff, _ int64) bool {
			must(t, os.Truncate(path, lastOff+3))
			return false
		}},
		{"byte flipped in last record", func(t *testing.T, path string, lastOff, size int64) bool {
			flipByte(t, path, size-2)
			return false
		}},
		{"length of last record flipped", func(t *testing.T, path string, lastOff, _ int64) bool {
			flipByte(t, path, lastOff+1)
			return false
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{SegmentBytes: 8 << 10}
			s := openStore(t, dir, opts)
			newStream(t, s, "g", "s")
			var m model
			for i := range 300 {
				evs := []Event{{int64(i % 50), fmt.Sprint("event ", i)}, {int64(i), strings.Repeat("p", i%20)}}
				ingest, seq, err := s.Append("g", "s", evs)
				must(t, err)
				m.add(seq, ingest, evs)
			}
			st := s.groups["g"].streams["s"]
			path := st.active.path
			last := st.active.recs[len(st.active.recs)-1]
			size := st.active.size
			if len(st.segs) < 3 {
				t.Fatalf("want sealed segments too, have %d segments", len(st.segs))
			}
			must(t, s.Close())

			survives := tt.damage(t, path, last.off, size)
			want := m.events
			if !survives {
				want = want[:len(want)-2]
				size = last.off
			}
			m.events = want

			s = openStore(t, dir, opts)
			fi, err := os.Stat(path)
			must(t, err)
			if fi.Size() != size {
				t.Fatalf("active segment is %d bytes after recovery, want %d", fi.Size(), size)
			}
			sameEvents(t, "after recovery", readAll(t, s, "g", "s", ReadOptions{Limit: 100}), m.sorted())

			evs := []Event{{7, "after recovery"}}
			ingest, seq, err := s.Append("g", "s", evs)
			must(t, err)
			if wantSeq := uint64(len(want)); seq != wantSeq {
				t.Fatalf("first seq after recovery %d, want %d", seq, wantSeq)
			}
			m.add(seq, ingest, evs)
			must(t, s.Close())
			s = openStore(t, dir, opts)
			sameEvents(t, "after second reopen", readAll(t, s, "g", "s", ReadOptions{Limit: 100, Backward: true}), m.sorted())
			// The cut bytes stay aside for inspection, across reopens.
			if cut, _ := filepath.Glob(path + ".cut-*"); len(cut) != 1 {
				t.Fatalf("saved cut files after the second reopen: %v, want one", cut)
			}
		})
	}
}

func TestIndexRebuild(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, idx string)
	}{
		{"missing", func(t *testing.T, idx string) { must(t, os.Remove(idx)) }},
		{"bad crc", func(t *testing.T, idx string) { flipByte(t, idx, 50) }},
		{"truncated", func(t *testing.T, idx string) { must(t, os.Truncate(idx, 30)) }},
		{"empty", func(t *testing.T, idx string) { must(t, os.Truncate(idx, 0)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{SegmentBytes: 4 << 10}
			s := openStore(t, dir, opts)
			newStream(t, s, "g", "s")
			var m model
			for i := range 200 {
				evs := []Event{{int64(200 - i), fmt.Sprint("e", i)}}
				ingest, seq, err := s.Append("g", "s", evs)
				must(t, err)
				m.add(seq, ingest, evs)
			}
			st := s.groups["g"].streams["s"]
			sealed := st.segs[1]
			want := encodeIndex(sealed)
			before, _ := s.Stream("g", "s")
			must(t, s.Close())

			tt.damage(t, sealed.idxPath())
			s = openStore(t, dir, opts)
			got, err := os.ReadFile(sealed.idxPath())
			must(t, err)
			if string(got) != string(want) {
				t.Fatal("rebuilt .idx differs from the one written at seal time")
			}
			after, _ := s.Stream("g", "s")
			if after != before {
				t.Fatalf("stats after rebuild %+v, before %+v", after, before)
			}
			sameEvents(t, "after rebuild", readAll(t, s, "g", "s", ReadOptions{Limit: 30}), m.sorted())
		})
	}
}

func TestWriteFailure(t *testing.T) {
	tests := []struct {
		name   string
		inject func(fs *faults)
		want   string // in the error
	}{
		{"write ENOSPC", func(fs *faults) { fs.writeErr = syscall.ENOSPC }, "write "},
		{"fsync ENOSPC", func(fs *faults) { fs.syncErr = syscall.ENOSPC }, "fsync "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			fs := &faults{}
			opts := Options{wrapFile: fs.wrap}
			s := openStore(t, dir, opts)
			newStream(t, s, "g", "s")
			var m model
			add := func(msg string) {
				evs := []Event{{int64(len(m.events)), msg}}
				ingest, seq, err := s.Append("g", "s", evs)
				must(t, err)
				m.add(seq, ingest, evs)
			}
			add("one")
			add("two")
			path := activePath(s, "g", "s")
			sizeBefore, _ := os.Stat(path)

			fs.mu.Lock()
			tt.inject(fs)
			fs.mu.Unlock()
			_, _, err := s.Append("g", "s", []Event{{99, strings.Repeat("lost", 100)}})
			if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) ||
				!strings.Contains(err.Error(), `append to stream "s" in group "g"`) {
				t.Fatalf("failed append returned %v", err)
			}
			sizeAfter, _ := os.Stat(path)
			if sizeAfter.Size() != sizeBefore.Size() {
				t.Fatalf("segment is %d bytes after the failed write, was %d", sizeAfter.Size(), sizeBefore.Size())
			}
			add("three")
			sameEvents(t, "after failure", readAll(t, s, "g", "s", ReadOptions{Limit: 10}), m.sorted())
			if m.events[2].Seq != 2 {
				t.Fatalf("failed append consumed seqs: %+v", m.events)
			}
			must(t, s.Close())
			s = openStore(t, dir, Options{})
			sameEvents(t, "after reopen", readAll(t, s, "g", "s", ReadOptions{Limit: 10}), m.sorted())
		})
	}
}

func TestWriteFailureUndoFails(t *testing.T) {
	dir := t.TempDir()
	fs := &faults{}
	s := openStore(t, dir, Options{wrapFile: fs.wrap})
	newStream(t, s, "g", "s")
	newStream(t, s, "g", "other")
	appendT(t, s, "g", "s", Event{1, "kept"})
	fs.mu.Lock()
	fs.writeErr = syscall.ENOSPC
	fs.truncErr = syscall.EIO
	fs.mu.Unlock()
	if _, _, err := s.Append("g", "s", []Event{{2, "lost"}}); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("append: %v", err)
	}
	fs.mu.Lock()
	fs.truncErr = nil
	fs.mu.Unlock()
	_, _, err := s.Append("g", "s", []Event{{3, "refused"}})
	if err == nil || !strings.Contains(err.Error(), "read-only until restart") {
		t.Fatalf("append to a stream with a torn tail: %v", err)
	}
	// Reads of the broken stream and writes elsewhere go on.
	evs, err := s.Read("g", "s", ReadOptions{Limit: 10})
	must(t, err)
	if len(evs) != 1 {
		t.Fatalf("read %v", evs)
	}
	appendT(t, s, "g", "other", Event{1, "fine"})
	must(t, s.Close())

	// Restart: recovery cuts the half-written record and the stream works.
	s = openStore(t, dir, Options{})
	appendT(t, s, "g", "s", Event{4, "again"})
	evs, err = s.Read("g", "s", ReadOptions{Limit: 10})
	must(t, err)
	if len(evs) != 2 || evs[0].Message != "kept" || evs[1].Message != "again" || evs[1].Seq != 1 {
		t.Fatalf("after restart: %+v", evs)
	}
}

func TestMetaWriteFailure(t *testing.T) {
	dir := t.TempDir()
	fs := &faults{}
	s := openStore(t, dir, Options{wrapFile: fs.wrap})
	must(t, s.CreateGroup("a", nil))
	fs.mu.Lock()
	fs.writeErr = syscall.ENOSPC
	fs.mu.Unlock()
	if err := s.CreateGroup("b", nil); !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), metaFileName) {
		t.Fatalf("create group on a full disk: %v", err)
	}
	if _, err := s.Group("b"); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("failed create applied: %v", err)
	}
	must(t, s.CreateGroup("c", nil))
	// The stream directory of a failed create is not left behind.
	fs.mu.Lock()
	fs.syncErr = syscall.ENOSPC
	fs.mu.Unlock()
	if err := s.CreateStream("a", "s"); err == nil {
		t.Fatal("create stream with failing fsync succeeded")
	}
	must(t, s.Close())
	entries, _ := os.ReadDir(filepath.Join(dir, "streams"))
	if len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
	s = openStore(t, dir, Options{})
	if gs := s.Groups(); len(gs) != 2 || gs[0].Name != "a" || gs[1].Name != "c" {
		t.Fatalf("groups after reopen: %+v", gs)
	}
}
