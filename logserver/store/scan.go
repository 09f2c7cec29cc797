package store

import (
	"fmt"
	"math"
)

// ScanEvent is one event offered by Scan. Message aliases a read buffer that
// the next event may overwrite: copy what must outlive the callback.
type ScanEvent struct {
	Timestamp     int64
	IngestionTime int64
	Seq           uint64
	Message       []byte
}

// ScanStats counts what a Scan read.
type ScanStats struct {
	Events int64 // events offered to the callback
	Bytes  int64 // their message bytes
}

// scanChunk is how much one pread of Scan fetches: large, because a scan
// reads whole segments front to back and each call costs a system call.
const scanChunk = 1 << 20

// Scan calls fn for every event of one stream whose timestamp lies in rng
// (and at or after minTs, the retention cutoff; 0 = none), in the order the
// events sit on disk, not in timestamp order: a query engine that aggregates
// or sorts anyway needs no merge, and reads each segment front to back with
// large reads. It stops early when fn returns false. Appends made after the
// scan starts are not seen.
func (s *Store) Scan(groupName, name string, rng Range, minTs int64, fn func(ev *ScanEvent) bool) (ScanStats, error) {
	var stats ScanStats
	fail := func(err error) (ScanStats, error) {
		return stats, fmt.Errorf("scan stream %q in group %q: %w", name, groupName, err)
	}
	st, err := s.lookupStream(groupName, name)
	if err != nil {
		return fail(err)
	}
	lo := max(rng.Start, minTs)
	hi := int64(math.MaxInt64)
	if rng.End != 0 {
		hi = rng.End
	}
	views, err := st.snapshot(lo, hi)
	if err != nil {
		return fail(err)
	}
	defer func() {
		for _, v := range views {
			v.close()
		}
	}()
	var buf []byte
	ev := ScanEvent{}
	for _, v := range views {
		f, err := v.fds.get(v.seg)
		if err != nil {
			return fail(err)
		}
		v.f = f
		var bufOff, bufEnd int64 // file range held in buf
		for i := range v.recs {
			r := &v.recs[i]
			if r.maxTs < lo || r.minTs >= hi {
				continue
			}
			end := r.off + int64(r.size)
			if r.off < bufOff || end > bufEnd {
				n := max(int64(r.size), min(scanChunk, v.size-r.off))
				if int64(cap(buf)) < n {
					buf = make([]byte, n)
				}
				buf = buf[:n]
				if _, err := f.ReadAt(buf, r.off); err != nil {
					return fail(fmt.Errorf("read %s at offset %d: %w", v.seg.path, r.off, osErr(err)))
				}
				bufOff, bufEnd = r.off, r.off+n
			}
			p, err := checkRecord(buf[r.off-bufOff : end-bufOff])
			if err == nil {
				var ri recInfo
				ri, err = parsePayload(p)
				if err == nil {
					stop := false
					err = forEachEvent(p, ri.count, func(k int, ts int64, msg []byte) bool {
						if ts < lo || ts >= hi {
							return ts < hi
						}
						ev.Timestamp, ev.IngestionTime, ev.Seq, ev.Message = ts, ri.ingest, r.seq+uint64(k), msg
						stats.Events++
						stats.Bytes += int64(len(msg))
						if !fn(&ev) {
							stop = true
							return false
						}
						return true
					})
					if stop {
						return stats, nil
					}
				}
			}
			if err != nil {
				return fail(fmt.Errorf("%s at offset %d: %w", v.seg.path, r.off, err))
			}
		}
	}
	return stats, nil
}

// StreamByID returns the stream of groupName whose numeric id is id.
func (s *Store) StreamByID(groupName string, id uint64) (Stream, error) {
	streams, err := s.Streams(groupName)
	if err != nil {
		return Stream{}, err
	}
	for _, st := range streams {
		if st.ID == id {
			return st, nil
		}
	}
	return Stream{}, fmt.Errorf("stream %d of group %q: %w", id, groupName, ErrStreamNotFound)
}
