package deploy

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// BlockSize is the EBS direct APIs' block: 512 KiB.
const BlockSize = 512 << 10

// dataBlocks lists, in order, the indexes of the BlockSize blocks of f
// (size bytes) that overlap data as the file system says (SEEK_DATA,
// SEEK_HOLE): a block wholly in a hole reads as zeros and need not even be
// read. A file system without hole reporting gives every block.
func dataBlocks(f *os.File, size int64) ([]int64, error) {
	n := (size + BlockSize - 1) / BlockSize
	var out []int64
	next := int64(0) // first block not yet listed
	for off := int64(0); off < size; {
		data, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // no data after off
		}
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
			return allBlocks(n), nil
		}
		if err != nil {
			return nil, fmt.Errorf("find the data of %s: %w", f.Name(), err)
		}
		hole, err := unix.Seek(int(f.Fd()), data, unix.SEEK_HOLE)
		if err != nil {
			return nil, fmt.Errorf("find the holes of %s: %w", f.Name(), err)
		}
		for b := max(data/BlockSize, next); b <= (hole-1)/BlockSize && b < n; b++ {
			out = append(out, b)
			next = b + 1
		}
		off = hole
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind %s: %w", f.Name(), err)
	}
	return out, nil
}

func allBlocks(n int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i)
	}
	return out
}

// isZero tells whether b holds only zero bytes.
func isZero(b []byte) bool {
	for len(b) >= 8 {
		if b[0]|b[1]|b[2]|b[3]|b[4]|b[5]|b[6]|b[7] != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// DiskBlocks says what an upload of the disk at path sends: its blocks,
// those the file system holds data for, and those of them that are not
// all zeros (the ones sent).
func DiskBlocks(path string) (total int64, allocated, nonzero []int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, nil, nil, err
	}
	total = (fi.Size() + BlockSize - 1) / BlockSize
	allocated, err = dataBlocks(f, fi.Size())
	if err != nil {
		return 0, nil, nil, err
	}
	buf := make([]byte, BlockSize)
	for _, b := range allocated {
		clear(buf)
		if _, err := f.ReadAt(buf, b*BlockSize); err != nil && err != io.EOF {
			return 0, nil, nil, fmt.Errorf("read %s: %w", path, err)
		}
		if !isZero(buf) {
			nonzero = append(nonzero, b)
		}
	}
	return total, allocated, nonzero, nil
}
