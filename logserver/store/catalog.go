package store

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// Metadata changes hold metaMu from their checks to the end of their journal
// write, so the checks still hold when the change is applied. They read the
// catalog without mu: only metaMu holders change it.

// CreateGroup creates a log group.
func (s *Store) CreateGroup(name string, tags map[string]string) error {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	if err := s.checkOpen(); err != nil {
		return fmt.Errorf("create log group %q: %w", name, err)
	}
	if s.groups[name] != nil {
		return fmt.Errorf("create log group %q: %w", name, ErrGroupExists)
	}
	r := &metaRec{op: opCreateGroup, id: s.allocID(), name: name, ctime: s.now().UnixMilli(), tags: tags}
	if err := s.commitMeta(r); err != nil {
		return fmt.Errorf("create log group %q: %w", name, err)
	}
	return nil
}

// DeleteGroup deletes a log group, its streams and their files.
func (s *Store) DeleteGroup(name string) error {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	g, err := s.lookupGroup(name)
	if err != nil {
		return fmt.Errorf("delete log group %q: %w", name, err)
	}
	streams := slices.Collect(maps.Values(g.streams))
	if err := s.commitMeta(&metaRec{op: opDeleteGroup, id: g.id}); err != nil {
		return fmt.Errorf("delete log group %q: %w", name, err)
	}
	for _, st := range streams {
		st.destroy()
	}
	return nil
}

// Group describes one log group.
func (s *Store) Group(name string) (Group, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, err := s.lookupGroup(name)
	if err != nil {
		return Group{}, fmt.Errorf("describe log group %q: %w", name, err)
	}
	return g.info(), nil
}

// Groups describes all log groups, sorted by name.
func (s *Store) Groups() []Group {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Group, 0, len(s.groups))
	for _, g := range s.groups {
		out = append(out, g.info())
	}
	slices.SortFunc(out, func(a, b Group) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// SetRetention sets a group's retention in days; 0 removes it.
func (s *Store) SetRetention(name string, days int) error {
	return s.changeGroup("set retention of log group", name, func(g *group) (*metaRec, error) {
		if days < 0 {
			return nil, fmt.Errorf("negative retention %d", days)
		}
		return &metaRec{op: opSetRetention, id: g.id, days: days}, nil
	})
}

// TagGroup adds tags to a group, replacing the values of existing keys.
func (s *Store) TagGroup(name string, tags map[string]string) error {
	return s.changeGroup("tag log group", name, func(g *group) (*metaRec, error) {
		return &metaRec{op: opTagGroup, id: g.id, tags: tags}, nil
	})
}

// UntagGroup removes tags from a group; absent keys are ignored.
func (s *Store) UntagGroup(name string, keys []string) error {
	return s.changeGroup("untag log group", name, func(g *group) (*metaRec, error) {
		return &metaRec{op: opUntagGroup, id: g.id, keys: keys}, nil
	})
}

func (s *Store) changeGroup(op, name string, change func(*group) (*metaRec, error)) error {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	g, err := s.lookupGroup(name)
	if err == nil {
		var r *metaRec
		if r, err = change(g); err == nil {
			err = s.commitMeta(r)
		}
	}
	if err != nil {
		return fmt.Errorf("%s %q: %w", op, name, err)
	}
	return nil
}

// CreateStream creates a log stream in a group.
func (s *Store) CreateStream(groupName, name string) error {
	fail := func(err error) error {
		return fmt.Errorf("create log stream %q in group %q: %w", name, groupName, err)
	}
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	g, err := s.lookupGroup(groupName)
	if err != nil {
		return fail(err)
	}
	if g.streams[name] != nil {
		return fail(ErrStreamExists)
	}
	st := s.newStream(s.allocID(), groupName, name, s.now().UnixMilli())
	// Files first, journal second: a crash in between leaves a directory
	// that the next Open sweeps as an orphan, never a journaled stream
	// without its files.
	if err := st.create(); err != nil {
		st.discard()
		return fail(err)
	}
	if err := s.commitMeta(&metaRec{op: opCreateStream, id: st.id, groupID: g.id, name: name, ctime: st.ctime, stream: st}); err != nil {
		st.discard()
		return fail(err)
	}
	return nil
}

// DeleteStream deletes a log stream and its files.
func (s *Store) DeleteStream(groupName, name string) error {
	fail := func(err error) error {
		return fmt.Errorf("delete log stream %q in group %q: %w", name, groupName, err)
	}
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	g, err := s.lookupGroup(groupName)
	if err != nil {
		return fail(err)
	}
	st := g.streams[name]
	if st == nil {
		return fail(ErrStreamNotFound)
	}
	if err := s.commitMeta(&metaRec{op: opDeleteStream, id: st.id}); err != nil {
		return fail(err)
	}
	st.destroy()
	return nil
}

// Stream describes one log stream.
func (s *Store) Stream(groupName, name string) (Stream, error) {
	st, err := s.lookupStream(groupName, name)
	if err != nil {
		return Stream{}, fmt.Errorf("describe log stream %q in group %q: %w", name, groupName, err)
	}
	return st.info(), nil
}

// Streams describes a group's streams, sorted by name.
func (s *Store) Streams(groupName string) ([]Stream, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, err := s.lookupGroup(groupName)
	if err != nil {
		return nil, fmt.Errorf("describe log streams of group %q: %w", groupName, err)
	}
	out := make([]Stream, 0, len(g.streams))
	for _, st := range g.streams {
		out = append(out, st.info())
	}
	slices.SortFunc(out, func(a, b Stream) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

func (s *Store) checkOpen() error {
	if s.closed {
		return ErrClosed
	}
	return nil
}

// allocID hands out ids in increasing order and never twice, even if the
// change that asked for one then fails. The caller holds metaMu.
func (s *Store) allocID() uint64 {
	id := s.nextID
	s.nextID++
	return id
}

func (g *group) info() Group {
	out := Group{ID: g.id, Name: g.name, CreationTime: g.ctime, RetentionDays: g.days, Tags: maps.Clone(g.tags)}
	for _, st := range g.streams {
		out.StoredBytes += st.info().StoredBytes
	}
	return out
}

func (st *stream) info() Stream {
	st.idxMu.RLock()
	defer st.idxMu.RUnlock()
	out := Stream{ID: st.id, Group: st.groupName, Name: st.name, CreationTime: st.ctime, StoredBytes: st.stats.bytes}
	if st.stats.events > 0 {
		out.FirstEventTimestamp = st.stats.minTs
		out.LastEventTimestamp = st.stats.maxTs
		out.LastIngestionTime = st.stats.maxIngest
	}
	return out
}

// create makes a new stream's directory and first, empty, segment durable.
func (st *stream) create() error {
	s := st.s
	if err := s.mkdirDurable(st.dir); err != nil {
		return err
	}
	path := filepath.Join(st.dir, segFileName(0))
	f, err := s.openFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return err
	}
	f.Close() // the first append opens it again (writer)
	if err := s.syncDir(st.dir); err != nil {
		return err
	}
	g := st.track(&segment{base: 0, path: path})
	st.segs = []*segment{g}
	st.active = g
	st.activeStart = s.now()
	return nil
}

// discard undoes create for a stream that never made it into the catalog.
func (st *stream) discard() {
	st.closeWriter()
	os.RemoveAll(st.dir)
}

// destroy removes a stream that has left the catalog. Appends still queued
// fail with ErrStreamNotFound; reads that already hold segments finish before
// those segments' files go. Failures to remove files are not reported: the
// deletion is already durable and the next Open sweeps what is left.
func (st *stream) destroy() {
	st.commitMu.Lock()
	st.deleted = true
	st.closeWriter()
	st.commitMu.Unlock()

	st.idxMu.Lock()
	segs := st.segs
	st.segs, st.active, st.gone = nil, nil, true
	st.idxMu.Unlock()

	// Segments that retention removed earlier may still be pinned by reads
	// too, so the directory goes when the stream's last segment file does,
	// whoever unlinks it.
	st.dropped.Store(true)
	for _, g := range segs {
		_ = g.remove()
	}
	if st.files.Load() == 0 {
		st.removeDir()
	}
}

// track counts g among the stream's segments whose files exist.
func (st *stream) track(g *segment) *segment {
	g.owner = st
	st.files.Add(1)
	return g
}

// untrack is called after a segment's files were unlinked.
func (st *stream) untrack() {
	if st.files.Add(-1) == 0 && st.dropped.Load() {
		st.removeDir()
	}
}

// removeDir may run twice (from destroy and from the last unlink); the
// second run finds nothing to do.
func (st *stream) removeDir() {
	if os.RemoveAll(st.dir) == nil {
		_ = st.s.syncDir(filepath.Dir(st.dir))
	}
}
