package store

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"strings"
	"sync"
)

// blockRecs is how many records share one block summary. A read first tests
// segments, then blocks, and only then single records, so a narrow time range
// over a big segment costs about recs/blockRecs comparisons.
const blockRecs = 128

// recMeta locates one record and summarizes its events.
type recMeta struct {
	off          int64  // of the record header in the segment file
	seq          uint64 // of the record's first event
	minTs, maxTs int64
	count        uint32 // events
	size         uint32 // header + payload bytes
}

// block summarizes blockRecs consecutive records. Only complete blocks exist;
// the records after the last one are tested one by one. That keeps published
// blocks immutable, so readers can use them without a lock.
type block struct {
	minTs, maxTs int64
}

// segment is the in-memory index of one segment file.
//
// recs and blocks only ever grow by append, and elements already published are
// never written again, so a reader may keep the slice headers it copied under
// the stream's idxMu and index them without the lock.
type segment struct {
	base uint64
	path string // the .seg file; the .idx sits beside it

	// Guarded by the stream's idxMu; written only by the holder of its commitMu.
	recs         []recMeta
	blocks       []block
	size         int64 // committed bytes
	events       uint64
	minTs, maxTs int64 // valid when events > 0
	firstIngest  int64 // ingestion time of the first record, 0 when empty
	maxIngest    int64
	sealed       bool

	// Reference counting defers unlinking the files while reads that already
	// selected this segment still need them.
	mu      sync.Mutex
	refs    int
	removed bool

	owner *stream // set by stream.track

	rf readFile // shared read descriptor; guarded by Store.fds.mu
}

func (g *segment) idxPath() string {
	return strings.TrimSuffix(g.path, ".seg") + ".idx"
}

// add appends a committed record to the index.
func (g *segment) add(r recMeta, ingest int64) {
	if g.events == 0 {
		g.minTs, g.maxTs, g.firstIngest = r.minTs, r.maxTs, ingest
	} else {
		g.minTs = min(g.minTs, r.minTs)
		g.maxTs = max(g.maxTs, r.maxTs)
	}
	g.maxIngest = max(g.maxIngest, ingest)
	g.recs = append(g.recs, r)
	g.events += uint64(r.count)
	g.size = r.off + int64(r.size)
	if len(g.recs)%blockRecs == 0 {
		rs := g.recs[len(g.recs)-blockRecs:]
		b := block{rs[0].minTs, rs[0].maxTs}
		for _, r := range rs[1:] {
			b.minTs = min(b.minTs, r.minTs)
			b.maxTs = max(b.maxTs, r.maxTs)
		}
		g.blocks = append(g.blocks, b)
	}
}

// acquire must be called with the stream's idxMu held (read or write) while
// the segment is still listed, so it cannot have been removed yet.
func (g *segment) acquire() {
	g.mu.Lock()
	g.refs++
	g.mu.Unlock()
}

func (g *segment) release() {
	g.mu.Lock()
	g.refs--
	gone := g.refs == 0 && g.removed
	g.mu.Unlock()
	if gone {
		g.unlink()
	}
}

// remove unlinks the segment's files now or, if reads hold it, when the last
// of them releases it. The caller has already taken it out of the stream's
// list.
func (g *segment) remove() error {
	g.mu.Lock()
	g.removed = true
	now := g.refs == 0
	g.mu.Unlock()
	if now {
		return g.unlink()
	}
	return nil
}

func (g *segment) unlink() error {
	// The .idx goes first: a leftover .seg without .idx is re-indexed and
	// deleted again later, a leftover .idx alone is just swept on open.
	err := os.Remove(g.idxPath())
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	if rerr := os.Remove(g.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	if g.owner != nil {
		g.owner.s.fds.drop(g)
		g.owner.untrack()
	}
	return err
}

// .idx file layout (little endian), written when a segment is sealed:
//
//	"KLX1" | u64 base | i64 segment size | u64 records | i64 first ingestion |
//	i64 max ingestion | records × (u32 size | u32 count | i64 min ts | i64 max ts) |
//	u32 CRC-32C of everything before it
//
// Offsets and seqs are not stored: they are running sums of sizes and counts.
const (
	idxMagic     = "KLX1"
	idxHeaderLen = 4 + 8 + 8 + 8 + 8 + 8
	idxRecLen    = 4 + 4 + 8 + 8
)

var errBadIndex = errors.New("bad index")

func encodeIndex(g *segment) []byte {
	b := make([]byte, idxHeaderLen+len(g.recs)*idxRecLen+4)
	copy(b, idxMagic)
	le.PutUint64(b[4:], g.base)
	le.PutUint64(b[12:], uint64(g.size))
	le.PutUint64(b[20:], uint64(len(g.recs)))
	le.PutUint64(b[28:], uint64(g.firstIngest))
	le.PutUint64(b[36:], uint64(g.maxIngest))
	o := idxHeaderLen
	for _, r := range g.recs {
		le.PutUint32(b[o:], r.size)
		le.PutUint32(b[o+4:], r.count)
		le.PutUint64(b[o+8:], uint64(r.minTs))
		le.PutUint64(b[o+16:], uint64(r.maxTs))
		o += idxRecLen
	}
	le.PutUint32(b[o:], crc32.Checksum(b[:o], castagnoli))
	return b
}

// decodeIndex rebuilds a segment's index from its .idx contents, which must
// describe exactly segSize bytes of segment base.
func decodeIndex(b []byte, path string, base uint64, segSize int64) (*segment, error) {
	if len(b) < idxHeaderLen+4 || string(b[:4]) != idxMagic {
		return nil, errBadIndex
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != le.Uint32(b[len(b)-4:]) {
		return nil, errBadIndex
	}
	n := le.Uint64(b[20:])
	if le.Uint64(b[4:]) != base || int64(le.Uint64(b[12:])) != segSize ||
		uint64(len(body)-idxHeaderLen) != n*idxRecLen {
		return nil, errBadIndex
	}
	g := &segment{base: base, path: path, sealed: true, recs: make([]recMeta, 0, n)}
	off, seq := int64(0), base
	for o := idxHeaderLen; o < len(body); o += idxRecLen {
		r := recMeta{
			off:   off,
			seq:   seq,
			size:  le.Uint32(body[o:]),
			count: le.Uint32(body[o+4:]),
			minTs: int64(le.Uint64(body[o+8:])),
			maxTs: int64(le.Uint64(body[o+16:])),
		}
		if r.size < recHeaderLen+payloadHeaderLen || r.count == 0 || r.minTs > r.maxTs {
			return nil, errBadIndex
		}
		g.add(r, 0)
		off += int64(r.size)
		seq += uint64(r.count)
	}
	// A sealed segment whose tail turned out corrupt when it was re-indexed
	// keeps its bytes (size) but indexes only the good prefix (off).
	if off > segSize {
		return nil, errBadIndex
	}
	g.size = segSize
	g.firstIngest = int64(le.Uint64(b[28:]))
	g.maxIngest = int64(le.Uint64(b[36:]))
	return g, nil
}

// writeIndex writes and fsyncs g's .idx. A torn .idx is harmless: its CRC
// fails and it is rebuilt, so no temporary file and rename are needed.
func (s *Store) writeIndex(g *segment) error {
	path := g.idxPath()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(encodeIndex(g))
	if err == nil && !s.opts.NoSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write index %s: %w", path, osErr(err))
	}
	return nil
}

// scanIndex builds a segment's index by reading the segment itself. It stops
// at the first bad record; stop says why (nil if the whole file is good).
func scanIndex(path string, base uint64) (g *segment, fileSize int64, stop error, err error) {
	g = &segment{base: base, path: path}
	seq := base
	end, fileSize, stop, err := scanSegment(path, func(off int64, size uint32, ri recInfo) {
		g.add(recMeta{off: off, seq: seq, minTs: ri.minTs, maxTs: ri.maxTs, count: ri.count, size: size}, ri.ingest)
		seq += uint64(ri.count)
	})
	if err != nil {
		return nil, 0, nil, fmt.Errorf("scan %s: %w", path, err)
	}
	g.size = end
	return g, fileSize, stop, nil
}
