// Package disk writes the bootable disk images of keel's VirtualBox and AWS
// targets: a GPT disk with one EFI system partition (FAT32) holding
// systemd-boot as the removable-media boot path EFI/BOOT/BOOTX64.EFI, its
// loader.conf and one entry that boots the kernel and initramfs with the
// given command line. The image is written as raw, VMDK (streamOptimized)
// or VDI (VirtualBox's dynamic image), by this package alone: no qemu-img,
// mtools or loop devices at build time.
//
// Images are reproducible: the same inputs give the same bytes. GUIDs, the
// volume serial and the VDI/VMDK identifiers derive from a hash of the
// inputs, and FAT timestamps are fixed.
//
// It lays out and encodes disks; what goes into the kernel command line and
// the initramfs is package image's business, and systemd-boot comes from
// package efi.
package disk
