package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// file is the part of *os.File that the write paths use. It is an interface
// only so that tests can put a fault-injecting wrapper between the store and
// the disk (Options.wrapFile).
type file interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
	Truncate(size int64) error
	Close() error
	Name() string
}

// openFile opens a file the store will write to.
func (s *Store) openFile(path string, flag int) (file, error) {
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return nil, err
	}
	if s.opts.wrapFile != nil {
		return s.opts.wrapFile(f), nil
	}
	return f, nil
}

// sync fsyncs f and counts it; the counter lets tests prove that group
// commit shares fsyncs.
func (s *Store) sync(f file) error {
	if s.opts.NoSync {
		return nil
	}
	s.syncs.Add(1)
	return f.Sync()
}

// syncDir makes a directory's entries (created, renamed or removed files)
// durable; fsync of a file alone does not cover its name.
func (s *Store) syncDir(path string) error {
	if s.opts.NoSync {
		return nil
	}
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", path, osErr(err))
	}
	return nil
}

// mkdirDurable creates path and any missing parents, fsyncing the parent of
// every directory it creates so that the new entries survive a crash.
func (s *Store) mkdirDurable(path string) error {
	path = filepath.Clean(path)
	var missing []string
	for p := path; ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		missing = append(missing, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return err
	}
	// Innermost last: fsync each new directory's parent.
	for i := len(missing) - 1; i >= 0; i-- {
		if err := s.syncDir(filepath.Dir(missing[i])); err != nil {
			return err
		}
	}
	return nil
}

// osErr strips the *PathError wrapper so that messages that already name the
// file do not name it twice; errors.Is still sees the errno.
func osErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
