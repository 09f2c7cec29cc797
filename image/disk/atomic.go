package disk

import (
	"os"
	"path/filepath"
)

// writeAtomic writes a file through fill into a temporary file next to
// path, then renames it over path: readers see the old file or the whole
// new one, and a failure removes the temporary file.
func writeAtomic(path string, fill func(*os.File) error) (size int64, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = fill(f); err != nil {
		return 0, err
	}
	if err = f.Sync(); err != nil {
		return 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if err = f.Close(); err != nil {
		return 0, err
	}
	// CreateTemp makes the file 0600; an image is no secret.
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return 0, err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
