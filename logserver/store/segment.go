package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"
	"strings"
)

// Record layout (little endian):
//
//	u32 payload length | u32 CRC-32C of payload | payload
//
// payload:
//
//	u8 version | i64 ingestion time | i64 min timestamp | i64 max timestamp |
//	u32 event count | count × (i64 timestamp | u32 message length | message)
//
// Events inside a record are sorted by timestamp, so a record's event seqs and
// (timestamp, seq) pairs both increase from first to last. A record carries no
// sequence number: its first seq is the segment's base plus the events before
// it, which the index knows, so commit never patches bytes already encoded.
const (
	recHeaderLen     = 8
	payloadHeaderLen = 1 + 8 + 8 + 8 + 4
	eventHeaderLen   = 8 + 4
	recordVersion    = 1
	// maxRecordLen bounds one payload; a length field above it is corruption,
	// not a reason to allocate gigabytes.
	maxRecordLen = 256 << 20
)

var (
	le         = binary.LittleEndian
	castagnoli = crc32.MakeTable(crc32.Castagnoli)

	errChecksum  = errors.New("checksum mismatch")
	errMalformed = errors.New("malformed record")
	errTorn      = errors.New("torn record")
)

// recInfo is the fixed part of a record payload.
type recInfo struct {
	ingest, minTs, maxTs int64
	count                uint32
}

// recordLen is the encoded size of a record holding events.
func recordLen(events []Event) int {
	n := recHeaderLen + payloadHeaderLen
	for i := range events {
		n += eventHeaderLen + len(events[i].Message)
	}
	return n
}

// encodeRecord encodes events, which must be sorted by timestamp, reusing
// dst's storage.
func encodeRecord(dst []byte, ingest int64, events []Event) []byte {
	n := recordLen(events)
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	b := dst[:n]
	p := b[recHeaderLen:]
	p[0] = recordVersion
	le.PutUint64(p[1:], uint64(ingest))
	le.PutUint64(p[9:], uint64(events[0].Timestamp))
	le.PutUint64(p[17:], uint64(events[len(events)-1].Timestamp))
	le.PutUint32(p[25:], uint32(len(events)))
	o := payloadHeaderLen
	for i := range events {
		e := &events[i]
		le.PutUint64(p[o:], uint64(e.Timestamp))
		le.PutUint32(p[o+8:], uint32(len(e.Message)))
		o += eventHeaderLen + copy(p[o+eventHeaderLen:], e.Message)
	}
	le.PutUint32(b[0:], uint32(len(p)))
	le.PutUint32(b[4:], crc32.Checksum(p, castagnoli))
	return b
}

// parsePayload decodes the fixed part of a payload whose CRC has been checked.
func parsePayload(p []byte) (recInfo, error) {
	if len(p) < payloadHeaderLen || p[0] != recordVersion {
		return recInfo{}, errMalformed
	}
	ri := recInfo{
		ingest: int64(le.Uint64(p[1:])),
		minTs:  int64(le.Uint64(p[9:])),
		maxTs:  int64(le.Uint64(p[17:])),
		count:  le.Uint32(p[25:]),
	}
	if ri.count == 0 || ri.minTs > ri.maxTs {
		return recInfo{}, errMalformed
	}
	return ri, nil
}

// forEachEvent calls fn for each event of payload p in order until fn returns
// false. msg aliases p.
func forEachEvent(p []byte, count uint32, fn func(i int, ts int64, msg []byte) bool) error {
	o := payloadHeaderLen
	for i := 0; i < int(count); i++ {
		if len(p)-o < eventHeaderLen {
			return errMalformed
		}
		ts := int64(le.Uint64(p[o:]))
		n := int(le.Uint32(p[o+8:]))
		o += eventHeaderLen
		if len(p)-o < n {
			return errMalformed
		}
		if !fn(i, ts, p[o:o+n]) {
			return nil
		}
		o += n
	}
	if o != len(p) {
		return errMalformed
	}
	return nil
}

// validatePayload checks that a payload's events are well formed and agree
// with its header, so that the index built from headers is trustworthy.
func validatePayload(p []byte) (recInfo, error) {
	ri, err := parsePayload(p)
	if err != nil {
		return ri, err
	}
	prev := ri.minTs
	bad := false
	err = forEachEvent(p, ri.count, func(i int, ts int64, _ []byte) bool {
		if ts < prev || ts > ri.maxTs || (i == 0 && ts != ri.minTs) || (i == int(ri.count)-1 && ts != ri.maxTs) {
			bad = true
			return false
		}
		prev = ts
		return true
	})
	if err == nil && bad {
		err = errMalformed
	}
	return ri, err
}

// checkRecord verifies a whole record (header and payload) read from disk at
// an offset the index recorded, and returns its payload.
func checkRecord(b []byte) ([]byte, error) {
	if len(b) < recHeaderLen || int(le.Uint32(b)) != len(b)-recHeaderLen {
		return nil, errMalformed
	}
	p := b[recHeaderLen:]
	if crc32.Checksum(p, castagnoli) != le.Uint32(b[4:]) {
		return nil, errChecksum
	}
	return p, nil
}

// scanSegment reads the segment at path from the start, verifying every
// record, and calls fn for each good one. It returns the offset just past the
// last good record, the file size, and, when the two differ, why the scan
// stopped (errTorn, errChecksum or errMalformed). err is for I/O failures.
func scanSegment(path string, fn func(off int64, size uint32, ri recInfo)) (end, fileSize int64, stop, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, nil, err
	}
	fileSize = fi.Size()
	r := bufio.NewReaderSize(f, 1<<20)
	var hdr [recHeaderLen]byte
	var buf []byte
	for end < fileSize {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return end, fileSize, errTorn, nil
			}
			return end, fileSize, nil, err
		}
		n := le.Uint32(hdr[:])
		if n < payloadHeaderLen || n > maxRecordLen {
			if int64(n)+recHeaderLen > fileSize-end {
				return end, fileSize, errTorn, nil
			}
			return end, fileSize, errMalformed, nil
		}
		if int64(n)+recHeaderLen > fileSize-end {
			return end, fileSize, errTorn, nil
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		p := buf[:n]
		if _, err := io.ReadFull(r, p); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return end, fileSize, errTorn, nil
			}
			return end, fileSize, nil, err
		}
		if crc32.Checksum(p, castagnoli) != le.Uint32(hdr[4:]) {
			return end, fileSize, errChecksum, nil
		}
		ri, verr := validatePayload(p)
		if verr != nil {
			return end, fileSize, verr, nil
		}
		fn(end, n+recHeaderLen, ri)
		end += int64(n) + recHeaderLen
	}
	return end, fileSize, nil, nil
}

// Segment files are named by their base seq, zero-padded so that name order
// is seq order.
func segFileName(base uint64) string { return fmt.Sprintf("%020d.seg", base) }
func idxFileName(base uint64) string { return fmt.Sprintf("%020d.idx", base) }

// parseSegFileName splits "<base>.<ext>" as written by segFileName.
func parseSegFileName(name string) (base uint64, ext string, ok bool) {
	stem, ext, found := strings.Cut(name, ".")
	if !found || len(stem) != 20 {
		return 0, "", false
	}
	base, err := strconv.ParseUint(stem, 10, 64)
	if err != nil {
		return 0, "", false
	}
	return base, ext, true
}
