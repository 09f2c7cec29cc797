package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// sparseDisk writes a file of n blocks: the blocks in data get a non-zero
// byte at the given offset in the block, the blocks in zeros are written
// with zeros (allocated, but all-zero), the rest are holes.
func sparseDisk(t *testing.T, n int64, data map[int64]int, zeros []int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.raw")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(n * BlockSize); err != nil {
		t.Fatal(err)
	}
	for b, off := range data {
		buf := make([]byte, 4096)
		for i := range buf {
			buf[i] = byte(b + int64(i) + 1) // never all zero
		}
		if _, err := f.WriteAt(buf, b*BlockSize+int64(off)); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range zeros {
		if _, err := f.WriteAt(make([]byte, BlockSize), b*BlockSize); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDiskBlocks(t *testing.T) {
	for _, tc := range []struct {
		name      string
		n         int64
		data      map[int64]int
		zeros     []int64
		wantAlloc []int64
		wantSent  []int64
	}{
		{"all holes", 8, nil, nil, []int64{}, nil},
		{"data at block starts", 8, map[int64]int{0: 0, 3: 0, 7: 0}, nil, []int64{0, 3, 7}, []int64{0, 3, 7}},
		{"data at a block's end", 4, map[int64]int{1: BlockSize - 4096}, nil, []int64{1}, []int64{1}},
		{"written zeros are allocated, not sent", 6, map[int64]int{5: 0}, []int64{2}, []int64{2, 5}, []int64{5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := sparseDisk(t, tc.n, tc.data, tc.zeros)
			total, alloc, sent, err := DiskBlocks(p)
			if err != nil {
				t.Fatal(err)
			}
			if total != tc.n {
				t.Errorf("total %d, want %d", total, tc.n)
			}
			if !slices.Equal(alloc, tc.wantAlloc) {
				t.Errorf("allocated blocks %v, want %v", alloc, tc.wantAlloc)
			}
			if !slices.Equal(sent, tc.wantSent) {
				t.Errorf("non-zero blocks %v, want %v", sent, tc.wantSent)
			}
		})
	}
}

func TestIsZero(t *testing.T) {
	b := make([]byte, 1027)
	if !isZero(b) {
		t.Fatal("zeros reported non-zero")
	}
	for _, i := range []int{0, 7, 8, 1000, 1026} {
		b[i] = 1
		if isZero(b) {
			t.Errorf("a 1 at %d reported zero", i)
		}
		b[i] = 0
	}
}
