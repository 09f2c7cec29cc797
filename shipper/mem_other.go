//go:build !linux

package shipper

// Elsewhere blocks are plain Go memory: see mem_linux.go for why not on Linux.

func mapBytes(n int) ([]byte, bool) { return make([]byte, n), false }
func populate([]byte)               {}
func unpopulate([]byte)             {}
func unmapBytes([]byte)             {}
