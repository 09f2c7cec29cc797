package store

import (
	"errors"
	"fmt"
)

const dayMillis = 24 * 60 * 60 * 1000

// EnforceRetention deletes, in every group with a retention, the sealed
// segments whose newest event is older than the retention. Events in the
// segments kept that are older than the retention are hidden by readers
// (ReadOptions.MinTimestamp), not deleted here. A read running concurrently
// keeps the segments it already selected until it finishes.
func (s *Store) EnforceRetention() error {
	type target struct {
		st     *stream
		cutoff int64
	}
	now := s.now()
	var targets []target
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return fmt.Errorf("enforce retention: %w", ErrClosed)
	}
	for _, g := range s.groups {
		if g.days <= 0 {
			continue
		}
		cutoff := now.UnixMilli() - int64(g.days)*dayMillis
		for _, st := range g.streams {
			targets = append(targets, target{st, cutoff})
		}
	}
	s.mu.RUnlock()
	var errs []error
	for _, t := range targets {
		if err := t.st.expire(t.cutoff); err != nil {
			errs = append(errs, fmt.Errorf("enforce retention on stream %q in group %q: %w", t.st.name, t.st.groupName, err))
		}
	}
	return errors.Join(errs...)
}

// expire deletes the sealed segments whose events are all older than cutoff.
func (st *stream) expire(cutoff int64) error {
	st.commitMu.Lock()
	if st.deleted || st.closed {
		st.commitMu.Unlock()
		return nil
	}
	// Seal an active segment that holds only expired events: a stream that
	// stopped receiving events would otherwise keep them forever.
	var err error
	if a := st.active; a.events > 0 && a.maxTs < cutoff && st.broken == nil {
		err = st.roll(st.s.now())
		// roll leaves the new segment open for writing, which suits a
		// commit about to write to it; this stream is idle, and one
		// descriptor kept per expired stream would pass maxOpenWrites.
		// The next append opens it again.
		st.closeWriter()
	}
	st.commitMu.Unlock()

	st.idxMu.Lock()
	if st.gone {
		st.idxMu.Unlock()
		return err
	}
	var keep, drop []*segment
	for _, g := range st.segs {
		if g.sealed && (g.events == 0 || g.maxTs < cutoff) {
			drop = append(drop, g)
		} else {
			keep = append(keep, g)
		}
	}
	if len(drop) > 0 {
		st.segs = keep
		st.recomputeStats()
	}
	st.idxMu.Unlock()

	// No directory fsync: if a crash undoes an unlink, the segment is simply
	// deleted again by the next enforcement.
	for _, g := range drop {
		if rerr := g.remove(); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	return err
}
