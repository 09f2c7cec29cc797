package shipper

import "syscall"

// madvPopulateWrite (Linux 5.14) faults a range in with one system call.
const madvPopulateWrite = 23

// mapBytes returns n bytes of memory outside the Go heap, not yet
// populated, and whether it is mapped (a Go slice when mapping fails).
func mapBytes(n int) ([]byte, bool) {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]byte, n), false
	}
	return b, true
}

// populate faults b in now. On kernels without MADV_POPULATE_WRITE it does
// nothing, and the first writes fault it in as usual.
func populate(b []byte) { syscall.Madvise(b, madvPopulateWrite) }

// unpopulate gives b's memory back; b reads as zeros after it.
func unpopulate(b []byte) { syscall.Madvise(b, syscall.MADV_DONTNEED) }

func unmapBytes(b []byte) { syscall.Munmap(b) }
