package image

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/image/appfs"
	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/store"
)

// AppDiskThreshold is the size of an app's files above which, with
// AppDisk "auto", they go on an app disk instead of into the initramfs.
// The app disk costs its modules, the device's probe and the mounts
// (about 140 ms more than the initramfs alone under TCG); the initramfs
// costs its unpacking, which grows with the app. Measured (the kernel's
// unpacking plus init's app disk step, guest clock, TCG, median of 3,
// noisy host): a 2 MB app 463 ms in the initramfs against 599 on a disk,
// 18 MB 935 against 1242, 50 MB 4347 against 1236: the lines cross near
// 20 MB (README, "App disk").
const AppDiskThreshold = 20 << 20

// AppDiskFile is the app disk's artifact in the image directory.
const AppDiskFile = "app.img"

// diskModules are the modules the app disk needs, by target: the disk's
// controller, the filesystem and overlay (for the writable directories).
var diskModules = map[string][]string{
	"qemu":       {"virtio_pci", "virtio_blk", "squashfs", "overlay"},
	"virtualbox": {"ahci", "sd_mod", "squashfs", "overlay"},
	"aws":        {"nvme", "squashfs", "overlay"},
}

// Writable are the app disk's directories that get a tmpfs overlay: the
// app's own (/app), where apps write caches, pid files and logs beside
// their code (CPython's __pycache__, a JVM's hs_err files).
var Writable = []string{"/app"}

// DefaultOverlayMB bounds what the app writes to its writable directories,
// all together: a tmpfs, so it is memory, and counted in the image's need.
const DefaultOverlayMB = 32

// useAppDisk decides where the app goes.
func (f Fuse) useAppDisk(files []initramfs.Entry) (bool, error) {
	switch f.AppDisk {
	case "", "auto":
		if _, ok := diskModules[f.Target]; !ok {
			return false, nil
		}
		if appBytes(files) <= AppDiskThreshold {
			return false, nil
		}
		if err := appfs.Available(); err != nil {
			fmt.Fprintf(f.Progress, "  note     the app goes into the initramfs, which needs more memory: %v\n", err)
			return false, nil
		}
		return true, nil
	case "yes":
		if _, ok := diskModules[f.Target]; !ok {
			return false, fmt.Errorf("app disk: target %s has none yet: fuse with -target qemu, or keep the app in the initramfs", f.Target)
		}
		return true, nil
	case "no":
		return false, nil
	}
	return false, fmt.Errorf("app disk %q: use auto, yes or no", f.AppDisk)
}

// onDisk reports whether an entry goes on the app disk: everything of the
// app's but /etc (the users, CA certificates: small, and where init and
// the app's lookups expect them before the disk is mounted).
func onDisk(e initramfs.Entry) bool {
	p := path.Clean("/" + e.Path)
	return p != "/etc" && !strings.HasPrefix(p, "/etc/")
}

// appBytes sums the sizes of the regular files among entries.
func appBytes(files []initramfs.Entry) int64 {
	var n int64
	for _, e := range files {
		switch {
		case e.Kind != initramfs.File:
		case e.Source != "":
			if fi, err := os.Stat(e.Source); err == nil {
				n += fi.Size()
			}
		default:
			n += int64(len(e.Data))
		}
	}
	return n
}

// writeAppDisk writes the app disk into dir and returns what the manifest
// and the configuration say of it, and the entries left for the initramfs.
func (f Fuse) writeAppDisk(dir string, files []initramfs.Entry) (*store.AppDisk, *bootcfg.AppDisk, []initramfs.Entry, error) {
	var disk, ram []initramfs.Entry
	for _, e := range files {
		if onDisk(e) {
			disk = append(disk, e)
		} else {
			ram = append(ram, e)
		}
	}
	res, err := appfs.Write(filepath.Join(dir, AppDiskFile), disk)
	if err != nil {
		return nil, nil, nil, err
	}
	md := &store.AppDisk{Artifact: AppDiskFile, FS: appfs.FSType, Size: res.Size, SHA256: res.SHA256, Bytes: res.Bytes, Files: listing(res.Files)}
	var writable []string
	for _, w := range Writable {
		for _, e := range disk {
			if p := path.Clean("/" + e.Path); p == w || strings.HasPrefix(p, w+"/") {
				writable = append(writable, w)
				break
			}
		}
	}
	cd := &bootcfg.AppDisk{FS: appfs.FSType, Serial: appfs.Serial, PartName: appfs.PartName, Size: res.Used, Writable: writable, OverlayMB: DefaultOverlayMB}
	return md, cd, ram, nil
}

// checkPlace checks AppDisk and MemoryMB before anything is written.
func (f Fuse) checkPlace() error {
	switch f.AppDisk {
	case "", "auto", "no":
	case "yes":
		if _, ok := diskModules[f.Target]; !ok {
			return fmt.Errorf("-appdisk yes: target %s has no app disk yet: fuse with -target qemu, or keep the app in the initramfs (-appdisk no)", f.Target)
		}
		if err := appfs.Available(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("-appdisk %q: use auto, yes or no", f.AppDisk)
	}
	if f.MemoryMB < 0 || f.MemoryMB > 1<<20 {
		return fmt.Errorf("-memory %d: give the app's memory in MB, 1 to 1048576 (0: its runtime's default)", f.MemoryMB)
	}
	return nil
}
