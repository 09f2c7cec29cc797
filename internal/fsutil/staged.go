package fsutil

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// Staged is the set of staging directories a package has in use: a program
// stopped by a signal runs no deferred cleanup, so its handler removes
// them all at once (RemoveAll), while the program's own goroutine may still
// be writing into them or installing one (Install). The zero value is
// ready to use.
type Staged struct {
	mu   sync.Mutex
	dirs map[string]bool
}

// ErrAborted is Install's error for a directory RemoveAll took.
var ErrAborted = errors.New("stopped: the staged files were removed")

// Add records dir as in use.
func (s *Staged) Add(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirs == nil {
		s.dirs = map[string]bool{}
	}
	s.dirs[dir] = true
}

// Done forgets dir: it was installed or removed.
func (s *Staged) Done(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.dirs, dir)
}

// Install runs install (the renames that put dir's contents in place) and
// forgets dir, excluding RemoveAll meanwhile: an install is whole or not
// begun. It returns ErrAborted if RemoveAll took dir first.
func (s *Staged) Install(dir string, install func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dirs[dir] {
		return ErrAborted
	}
	if err := install(); err != nil {
		return err
	}
	delete(s.dirs, dir)
	return nil
}

// RemoveAll removes every directory in use and reports how many there
// were. Each is first renamed aside, in one step, so that a writer still
// at work creates nothing more in it, then removed.
func (s *Staged) RemoveAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.dirs)
	for d := range s.dirs {
		gone := fmt.Sprintf("%s.aborted-%d", d, os.Getpid())
		if os.Rename(d, gone) != nil {
			gone = d
		}
		// A file a writer was creating as the rename came may still
		// land: try again.
		for range 5 {
			if os.RemoveAll(gone) == nil {
				break
			}
		}
		delete(s.dirs, d)
	}
	return n
}
