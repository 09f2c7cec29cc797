package store

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const (
	defaultSegmentBytes = 64 << 20
	defaultSegmentAge   = time.Hour
	streamsDirName      = "streams"
	// openWorkers bounds how many streams Open loads at once; loading is
	// mostly waiting for reads of active segments.
	openWorkers = 8
)

// Store is an open data directory. All methods are safe for concurrent use.
//
// Locking: metaMu serializes metadata changes and the journal; mu guards the
// catalog maps and is never held during I/O, so appends and reads (which take
// it only to look a stream up) are not stalled by a metadata fsync. Each
// stream has its own locks (see stream).
type Store struct {
	dir  string
	opts Options

	metaMu  sync.Mutex
	journal *journal
	nextID  uint64 // next unused group/stream id; guarded by metaMu (and mu during replay)

	mu          sync.RWMutex
	closed      bool
	groups      map[string]*group
	groupsByID  map[uint64]*group
	streamsByID map[uint64]*stream

	subMu sync.Mutex
	subs  atomic.Pointer[[]*subscriber]

	syncs atomic.Int64 // data and metadata fsyncs issued; read by tests

	// openWrites counts the write descriptors streams hold. Streams open
	// theirs on the first append and give it up after a commit when too
	// many are open, so that neither many streams nor a key that may
	// create streams can exhaust the process's descriptors.
	openWrites atomic.Int64

	fds fdCache
}

// group is a log group in the catalog; guarded by Store.mu.
type group struct {
	id      uint64
	name    string
	ctime   int64
	days    int
	tags    map[string]string
	streams map[string]*stream
}

type subscriber struct {
	fn func(group, stream string, events []StoredEvent)
}

// Open opens or creates the store in dir. It takes no lock against other
// processes; the caller must ensure it is the only one using dir.
func Open(dir string, opts Options) (*Store, error) {
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = defaultSegmentBytes
	}
	if opts.SegmentAge <= 0 {
		opts.SegmentAge = defaultSegmentAge
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{
		dir:         dir,
		opts:        opts,
		groups:      make(map[string]*group),
		groupsByID:  make(map[uint64]*group),
		streamsByID: make(map[uint64]*stream),
		nextID:      1,
	}
	if err := s.open(); err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	return s, nil
}

func (s *Store) open() error {
	if err := s.mkdirDurable(filepath.Join(s.dir, streamsDirName)); err != nil {
		return err
	}
	// A leftover from a compaction that crashed before its rename.
	os.Remove(filepath.Join(s.dir, metaFileName+".tmp"))
	if err := s.openJournal(); err != nil {
		return err
	}
	if s.journal.records > 2*s.liveMetaRecords()+compactSlack {
		// A failed compaction leaves the old journal, still correct, in
		// place; only a journal that can no longer be appended to is fatal.
		if err := s.compactMeta(); err != nil && s.journal.broken != nil {
			return err
		}
	}
	if err := s.sweepOrphans(); err != nil {
		return err
	}
	return s.loadStreams()
}

// sweepOrphans removes stream directories that the catalog does not know: a
// crash between journaling a deletion (or failing to journal a creation) and
// removing the files leaves them behind.
func (s *Store) sweepOrphans() error {
	dir := filepath.Join(s.dir, streamsDirName)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	swept := false
	for _, e := range entries {
		id, err := strconv.ParseUint(e.Name(), 10, 64)
		if err == nil && s.streamsByID[id] != nil && e.IsDir() {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
		swept = true
	}
	if swept {
		return s.syncDir(dir)
	}
	return nil
}

func (s *Store) loadStreams() error {
	work := make(chan *stream)
	errs := make([]error, openWorkers)
	var wg sync.WaitGroup
	for i := range openWorkers {
		wg.Go(func() {
			for st := range work {
				if err := st.load(); err != nil && errs[i] == nil {
					errs[i] = fmt.Errorf("load stream %q in group %q: %w", st.name, st.groupName, err)
				}
			}
		})
	}
	for _, st := range s.streamsByID {
		work <- st
	}
	close(work)
	wg.Wait()
	return errors.Join(errs...)
}

// Close closes the store. Appends waiting for a commit fail with ErrClosed;
// reads already running finish on their own file descriptors.
func (s *Store) Close() error {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	return s.closeFiles()
}

func (s *Store) closeFiles() error {
	var errs []error
	for _, st := range s.streamsByID {
		st.commitMu.Lock()
		st.closed = true
		if st.f != nil {
			errs = append(errs, st.f.Close())
			st.f = nil
			s.openWrites.Add(-1)
		}
		st.commitMu.Unlock()
	}
	if s.journal != nil {
		errs = append(errs, s.journal.f.Close())
	}
	s.fds.close()
	return errors.Join(errs...)
}

// apply changes the catalog according to r. It is the only code that does, so
// replay and run time cannot disagree. The caller holds mu (or is Open).
func (s *Store) apply(r *metaRec) error {
	switch r.op {
	case opIDFloor:
		s.nextID = max(s.nextID, r.id)
	case opCreateGroup:
		if s.groups[r.name] != nil || s.groupsByID[r.id] != nil {
			return fmt.Errorf("group %q (id %d) created twice", r.name, r.id)
		}
		g := &group{id: r.id, name: r.name, ctime: r.ctime, days: r.days, tags: maps.Clone(r.tags), streams: make(map[string]*stream)}
		if g.tags == nil {
			g.tags = make(map[string]string)
		}
		s.groups[g.name] = g
		s.groupsByID[g.id] = g
		s.nextID = max(s.nextID, r.id+1)
	case opDeleteGroup:
		g := s.groupsByID[r.id]
		if g == nil {
			return fmt.Errorf("delete of unknown group id %d", r.id)
		}
		delete(s.groups, g.name)
		delete(s.groupsByID, g.id)
		for _, st := range g.streams {
			delete(s.streamsByID, st.id)
		}
	case opSetRetention, opTagGroup, opUntagGroup:
		g := s.groupsByID[r.id]
		if g == nil {
			return fmt.Errorf("change of unknown group id %d", r.id)
		}
		switch r.op {
		case opSetRetention:
			g.days = r.days
		case opTagGroup:
			maps.Copy(g.tags, r.tags)
		case opUntagGroup:
			for _, k := range r.keys {
				delete(g.tags, k)
			}
		}
	case opCreateStream:
		g := s.groupsByID[r.groupID]
		if g == nil {
			return fmt.Errorf("stream %q created in unknown group id %d", r.name, r.groupID)
		}
		if g.streams[r.name] != nil || s.streamsByID[r.id] != nil {
			return fmt.Errorf("stream %q (id %d) created twice", r.name, r.id)
		}
		st := r.stream
		if st == nil {
			st = s.newStream(r.id, g.name, r.name, r.ctime)
		}
		g.streams[st.name] = st
		s.streamsByID[st.id] = st
		s.nextID = max(s.nextID, r.id+1)
	case opDeleteStream:
		st := s.streamsByID[r.id]
		if st == nil {
			return fmt.Errorf("delete of unknown stream id %d", r.id)
		}
		delete(s.groups[st.groupName].streams, st.name)
		delete(s.streamsByID, st.id)
	default:
		return fmt.Errorf("unknown operation %d", r.op)
	}
	return nil
}

func (s *Store) lookupGroup(name string) (*group, error) {
	if s.closed {
		return nil, ErrClosed
	}
	g := s.groups[name]
	if g == nil {
		return nil, ErrGroupNotFound
	}
	return g, nil
}

func (s *Store) lookupStream(groupName, name string) (*stream, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, err := s.lookupGroup(groupName)
	if err != nil {
		return nil, err
	}
	st := g.streams[name]
	if st == nil {
		return nil, ErrStreamNotFound
	}
	return st, nil
}

// Subscribe registers fn to be called after each committed Append (after its
// fsync), from the goroutine that committed it, in commit order per stream.
// fn must not block and must not append, delete or enforce retention on the
// store: it runs while the stream's commit lock is held. The events slice is
// fn's to keep.
func (s *Store) Subscribe(fn func(group, stream string, events []StoredEvent)) (cancel func()) {
	sub := &subscriber{fn: fn}
	s.subMu.Lock()
	var list []*subscriber
	if p := s.subs.Load(); p != nil {
		list = slices.Clone(*p)
	}
	list = append(list, sub)
	s.subs.Store(&list)
	s.subMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.subMu.Lock()
			defer s.subMu.Unlock()
			list := slices.DeleteFunc(slices.Clone(*s.subs.Load()), func(x *subscriber) bool { return x == sub })
			s.subs.Store(&list)
		})
	}
}

func (s *Store) now() time.Time { return s.opts.Now() }

func (s *Store) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}
