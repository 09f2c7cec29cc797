// Package initramfs writes the initial RAM filesystems keel boots: a newc
// ("070701") cpio archive, zstd-compressed, which the Linux kernel unpacks
// into its rootfs before running /init.
//
// Archives are reproducible: entries are written in path order with fixed
// owners, times and inode numbers, so the same inputs give the same bytes.
// It knows nothing of what goes into an image (package image decides that)
// or of kernels and modules.
//
// It is written here rather than taken from a cpio library because the
// kernel needs device nodes (/dev/console 5,1 and /dev/null 1,3) in the
// archive, and the well-kept Go cpio writers do not write the rdev fields
// that carry a device's numbers.
package initramfs
