package fsutil

import (
	"os"
	"sync"
)

// Staged is the set of staging directories a package has in use: a program
// stopped by a signal runs no deferred cleanup, so its handler removes
// them all at once. The zero value is ready to use.
type Staged struct {
	mu   sync.Mutex
	dirs map[string]bool
}

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

// RemoveAll removes every directory in use.
func (s *Staged) RemoveAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for d := range s.dirs {
		os.RemoveAll(d)
	}
}
