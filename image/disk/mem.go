package disk

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/diskfs/go-diskfs/backend"
)

// memDisk is a disk image in memory, the storage go-diskfs writes to. The
// image is assembled whole before any byte reaches the output, so a failure
// leaves nothing to clean up, and FAT's many small writes (one per
// 512-byte cluster) cost no system calls. Images are tens of MiB.
type memDisk struct {
	b   []byte
	off int64
}

var _ backend.Storage = (*memDisk)(nil)

func newMemDisk(size int64) *memDisk { return &memDisk{b: make([]byte, size)} }

func (m *memDisk) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memDisk) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m.b)) {
		return 0, errors.New("write beyond the end of the disk")
	}
	return copy(m.b[off:], p), nil
}

func (m *memDisk) Read(p []byte) (int, error) {
	n, err := m.ReadAt(p, m.off)
	m.off += int64(n)
	return n, err
}

func (m *memDisk) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += m.off
	case io.SeekEnd:
		off += int64(len(m.b))
	}
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	m.off = off
	return off, nil
}

func (m *memDisk) Stat() (fs.FileInfo, error) { return memInfo(len(m.b)), nil }
func (m *memDisk) Close() error               { return nil }
func (m *memDisk) Path() string               { return "" }

func (m *memDisk) Writable() (backend.WritableFile, error) { return m, nil }

// Sys is for ioctls on block devices; memory has none.
func (m *memDisk) Sys() (*os.File, error) { return nil, backend.ErrNotSuitable }

type memInfo int64

func (i memInfo) Name() string       { return "disk" }
func (i memInfo) Size() int64        { return int64(i) }
func (i memInfo) Mode() fs.FileMode  { return 0o600 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }
