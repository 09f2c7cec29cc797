package store

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// meta.log is a sequence of [u32 length][u32 CRC-32C][payload] records, each
// one metadata change. Every change is written and fsynced before the call
// that made it returns; Open replays the file and rewrites it as a snapshot of
// the live state once it has grown well beyond that.
const (
	metaFileName = "meta.log"
	maxMetaRec   = 16 << 20
	// compactSlack keeps small catalogs from being rewritten over and over.
	compactSlack = 256
)

type metaOp byte

const (
	// opIDFloor records the next unused id, so that a snapshot that no longer
	// mentions deleted groups and streams still never reuses their ids.
	opIDFloor metaOp = iota + 1
	opCreateGroup
	opDeleteGroup
	opSetRetention
	opTagGroup
	opUntagGroup
	opCreateStream
	opDeleteStream
)

// metaRec is one journal entry; which fields are used depends on op.
type metaRec struct {
	op      metaOp
	id      uint64 // group or stream id; the floor for opIDFloor
	groupID uint64 // opCreateStream
	name    string
	ctime   int64
	days    int
	tags    map[string]string
	keys    []string

	// stream is the fully prepared stream that opCreateStream installs at run
	// time; replay leaves it nil and a bare stream is made instead.
	stream *stream
}

func (r *metaRec) encode() []byte {
	b := []byte{byte(r.op)}
	b = binary.AppendUvarint(b, r.id)
	switch r.op {
	case opCreateGroup:
		b = binary.AppendVarint(b, r.ctime)
		b = binary.AppendUvarint(b, uint64(r.days))
		b = appendString(b, r.name)
		b = appendTags(b, r.tags)
	case opSetRetention:
		b = binary.AppendUvarint(b, uint64(r.days))
	case opTagGroup:
		b = appendTags(b, r.tags)
	case opUntagGroup:
		b = binary.AppendUvarint(b, uint64(len(r.keys)))
		for _, k := range r.keys {
			b = appendString(b, k)
		}
	case opCreateStream:
		b = binary.AppendUvarint(b, r.groupID)
		b = binary.AppendVarint(b, r.ctime)
		b = appendString(b, r.name)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTags(b []byte, tags map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(tags)))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		b = appendString(b, k)
		b = appendString(b, tags[k])
	}
	return b
}

// metaDecoder reads the fields of one payload; the first error sticks.
type metaDecoder struct {
	b   []byte
	err error
}

func (d *metaDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errMalformed
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *metaDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errMalformed
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *metaDecoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = errMalformed
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *metaDecoder) count() int {
	// Each counted item takes at least one byte, which bounds the allocation.
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = errMalformed
		return 0
	}
	return int(n)
}

func (d *metaDecoder) tags() map[string]string {
	n := d.count()
	m := make(map[string]string, n)
	for range n {
		k := d.string()
		m[k] = d.string()
	}
	return m
}

func decodeMetaRec(p []byte) (metaRec, error) {
	if len(p) == 0 {
		return metaRec{}, errMalformed
	}
	r := metaRec{op: metaOp(p[0])}
	d := &metaDecoder{b: p[1:]}
	r.id = d.uvarint()
	switch r.op {
	case opIDFloor, opDeleteGroup, opDeleteStream:
	case opCreateGroup:
		r.ctime = d.varint()
		r.days = int(d.uvarint())
		r.name = d.string()
		r.tags = d.tags()
	case opSetRetention:
		r.days = int(d.uvarint())
	case opTagGroup:
		r.tags = d.tags()
	case opUntagGroup:
		n := d.count()
		for range n {
			r.keys = append(r.keys, d.string())
		}
	case opCreateStream:
		r.groupID = d.uvarint()
		r.ctime = d.varint()
		r.name = d.string()
	default:
		return r, fmt.Errorf("unknown operation %d", r.op)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errMalformed
	}
	return r, d.err
}

// journal is the open meta.log. Guarded by Store.metaMu.
type journal struct {
	path    string
	f       file
	size    int64
	records int
	// broken is set when a failed append could not be undone; metadata then
	// stays read-only until restart rather than appending after garbage.
	broken error
}

func frameRecord(p []byte) []byte {
	b := make([]byte, recHeaderLen, recHeaderLen+len(p))
	le.PutUint32(b, uint32(len(p)))
	le.PutUint32(b[4:], crc32.Checksum(p, castagnoli))
	return append(b, p...)
}

// replayMeta applies the records of data in order and returns the length of
// the good prefix and the number of records in it. A bad record at the very
// end is a write torn by a crash (never acknowledged) and ends the good
// prefix; a bad record followed by more data is corruption and an error,
// because cutting there would silently drop acknowledged changes.
func replayMeta(data []byte, apply func(*metaRec) error) (end, records int, err error) {
	for end < len(data) {
		rest := data[end:]
		bad := len(rest) < recHeaderLen
		var n int
		if !bad {
			n = int(le.Uint32(rest))
			bad = n == 0 || n > maxMetaRec || recHeaderLen+n > len(rest) ||
				crc32.Checksum(rest[recHeaderLen:recHeaderLen+n], castagnoli) != le.Uint32(rest[4:])
		}
		if bad {
			if len(rest) < recHeaderLen || (n > 0 && n <= maxMetaRec && recHeaderLen+n >= len(rest)) || allZero(rest) {
				return end, records, nil
			}
			return end, records, fmt.Errorf("%w at offset %d", errChecksum, end)
		}
		rec, err := decodeMetaRec(rest[recHeaderLen : recHeaderLen+n])
		if err == nil {
			err = apply(&rec)
		}
		if err != nil {
			return end, records, fmt.Errorf("record at offset %d: %w", end, err)
		}
		end += recHeaderLen + n
		records++
	}
	return end, records, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// openJournal replays meta.log into the catalog, cuts a torn tail, and leaves
// the file open for appending.
func (s *Store) openJournal() error {
	path := filepath.Join(s.dir, metaFileName)
	data, err := os.ReadFile(path)
	created := errors.Is(err, fs.ErrNotExist)
	if err != nil && !created {
		return err
	}
	end, records, err := replayMeta(data, s.apply)
	if err != nil {
		return fmt.Errorf("replay %s: %w", path, err)
	}
	f, err := s.openFile(path, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return err
	}
	if end < len(data) {
		if err := f.Truncate(int64(end)); err != nil {
			f.Close()
			return fmt.Errorf("cut torn tail of %s: %w", path, osErr(err))
		}
		if err := s.sync(f); err != nil {
			f.Close()
			return fmt.Errorf("fsync %s: %w", path, osErr(err))
		}
	}
	if created {
		if err := s.syncDir(s.dir); err != nil {
			f.Close()
			return err
		}
	}
	s.journal = &journal{path: path, f: f, size: int64(end), records: records}
	return nil
}

// commitMeta makes r durable and then applies it to the catalog. The caller
// holds metaMu and has checked that r applies cleanly.
func (s *Store) commitMeta(r *metaRec) error {
	j := s.journal
	if j.broken != nil {
		return j.broken
	}
	b := frameRecord(r.encode())
	if _, err := j.f.WriteAt(b, j.size); err != nil {
		return s.undoMeta(fmt.Errorf("write %s: %w", j.path, osErr(err)))
	}
	if err := s.sync(j.f); err != nil {
		return s.undoMeta(fmt.Errorf("fsync %s: %w", j.path, osErr(err)))
	}
	j.size += int64(len(b))
	j.records++
	s.mu.Lock()
	err := s.apply(r)
	s.mu.Unlock()
	if err != nil {
		// Unreachable unless the callers' checks and apply disagree.
		return fmt.Errorf("apply metadata change: %w", err)
	}
	if j.records > 2*s.liveMetaRecords()+compactSlack {
		// A failed compaction leaves the old, longer journal in place, which
		// is still correct, so it does not fail the change.
		_ = s.compactMeta()
	}
	return nil
}

// undoMeta cuts meta.log back after a failed append. If that fails too, the
// journal refuses further changes until restart, when replay cuts the tail.
func (s *Store) undoMeta(cause error) error {
	j := s.journal
	err := j.f.Truncate(j.size)
	if err == nil {
		err = s.sync(j.f)
	}
	if err != nil {
		j.broken = fmt.Errorf("metadata is read-only until restart: cutting %s back to %d bytes after a failed append: %w (after: %w)", j.path, j.size, osErr(err), cause)
	}
	return cause
}

func (s *Store) liveMetaRecords() int {
	n := 1 + len(s.groups)
	for _, g := range s.groups {
		n += len(g.streams)
	}
	return n
}

// compactMeta rewrites meta.log as a snapshot of the live catalog: written to
// a temporary file, fsynced, renamed over the journal, directory fsynced, so
// that a crash at any point leaves either the old or the new journal whole.
// The caller holds metaMu.
func (s *Store) compactMeta() error {
	j := s.journal
	var buf []byte
	n := 0
	add := func(r *metaRec) {
		buf = append(buf, frameRecord(r.encode())...)
		n++
	}
	add(&metaRec{op: opIDFloor, id: s.nextID})
	groups := slices.SortedFunc(maps.Values(s.groups), func(a, b *group) int { return cmp.Compare(a.id, b.id) })
	for _, g := range groups {
		add(&metaRec{op: opCreateGroup, id: g.id, name: g.name, ctime: g.ctime, days: g.days, tags: g.tags})
		streams := slices.SortedFunc(maps.Values(g.streams), func(a, b *stream) int { return cmp.Compare(a.id, b.id) })
		for _, st := range streams {
			add(&metaRec{op: opCreateStream, id: st.id, groupID: g.id, name: st.name, ctime: st.ctime})
		}
	}
	tmp := j.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(buf)
	if err == nil {
		err = s.sync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, j.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("compact %s: %w", j.path, err)
	}
	// From here the snapshot is the journal; the old descriptor points at the
	// unlinked old file and must not be appended to.
	nf, err := s.openFile(j.path, os.O_RDWR)
	if err == nil {
		err = s.syncDir(s.dir)
	}
	j.f.Close()
	if err != nil {
		if nf != nil {
			nf.Close()
		}
		j.f = brokenFile{}
		j.broken = fmt.Errorf("metadata is read-only until restart: reopen %s after compaction: %w", j.path, err)
		return j.broken
	}
	j.f, j.size, j.records = nf, int64(len(buf)), n
	return nil
}

// brokenFile stands in for a journal file that could not be reopened; it is
// never written because the journal is marked broken, but Close must work.
type brokenFile struct{ file }

func (brokenFile) Close() error { return nil }
