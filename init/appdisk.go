package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/keelvm/keel/bootcfg"
)

// Where the app disk is mounted, read-only, and where the tmpfs of its
// writable directories' overlays is.
const (
	appDiskRoot = "/run/keel/app"
	overlayRoot = "/run/keel/overlay"
)

// appDiskWait bounds the wait for the disk to appear once its driver is
// loaded: the probe is quick, even under emulation (tens of ms).
const appDiskWait = 10 * time.Second

// checkUnpacked makes sure the kernel unpacked the whole initramfs: when
// memory runs out while unpacking, the kernel logs "Initramfs unpacking
// failed" and boots on what it has, where the app then fails in
// misleading ways (files missing, a full disk).
func checkUnpacked() error {
	if _, err := os.Stat(bootcfg.Unpacked); err == nil {
		return nil
	}
	why := "the kernel gave no reason"
	if l := kernelSays("Initramfs unpacking failed"); l != "" {
		why = "the kernel: " + l
	}
	return fmt.Errorf("the initramfs was unpacked only in part (its last file, %s, is missing; %s): the machine has too little memory for the image (give it more: keel run -memory MB; the image's need is memory.min_mb in its manifest), or initrd.img is damaged (fuse it again)", bootcfg.Unpacked, why)
}

// kernelSays returns the message of the first kernel log record that
// contains s, read from /dev/kmsg without waiting for new ones.
func kernelSays(s string) string {
	fd, err := syscall.Open("/dev/kmsg", syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return ""
	}
	defer syscall.Close(fd)
	buf := make([]byte, 8192)
	for {
		n, err := syscall.Read(fd, buf)
		if errors.Is(err, syscall.EPIPE) {
			continue // records overwritten while reading: go on with the next
		}
		if err != nil || n <= 0 {
			return ""
		}
		// "PRI,SEQ,TIME,FLAGS;MESSAGE\n"
		if _, msg, ok := strings.Cut(string(buf[:n]), ";"); ok && strings.Contains(msg, s) {
			msg, _, _ = strings.Cut(msg, "\n")
			return msg
		}
	}
}

// mountAppDisk loads the app disk's modules, finds it, checks that it is
// the disk the image was fused with (its size), mounts it read-only and
// shows each of its top-level directories at the same place in the root:
// by a bind mount, or an overlay where the root has that directory too
// (/lib) or where the app may write (a tmpfs upper layer).
func mountAppDisk(d *bootcfg.AppDisk) error {
	if err := loadModules(d.Modules); err != nil {
		return fmt.Errorf("load the app disk's modules: %w", err)
	}
	dev, err := findAppDisk(d)
	if err != nil {
		return err
	}
	if err := checkAppDisk(dev, d); err != nil {
		return err
	}
	if err := os.MkdirAll(appDiskRoot, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", appDiskRoot, err)
	}
	if err := syscall.Mount(dev, appDiskRoot, d.FS, syscall.MS_RDONLY|syscall.MS_NODEV, ""); err != nil {
		return fmt.Errorf("mount the app disk %s (%s) on %s: %w: the disk is corrupt; fuse the image again", dev, d.FS, appDiskRoot, err)
	}
	tops, err := os.ReadDir(appDiskRoot)
	if err != nil {
		return fmt.Errorf("read the app disk %s: %w: the disk is corrupt; fuse the image again", dev, err)
	}
	overlayUp := false
	for _, t := range tops {
		if !t.IsDir() {
			continue // the builder puts only directories at the top
		}
		target := "/" + t.Name()
		lower := filepath.Join(appDiskRoot, t.Name())
		inRoot := nonEmptyDir(target)
		writable := slices.Contains(d.Writable, target)
		if err := os.MkdirAll(target, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", target, err)
		}
		switch {
		case writable:
			if !overlayUp {
				size := d.OverlayMB
				if size <= 0 {
					size = 32
				}
				if err := os.MkdirAll(overlayRoot, 0o700); err != nil {
					return fmt.Errorf("create %s: %w", overlayRoot, err)
				}
				if err := syscall.Mount("tmpfs", overlayRoot, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%dm,mode=0700", size)); err != nil {
					return fmt.Errorf("mount tmpfs on %s: %w", overlayRoot, err)
				}
				overlayUp = true
			}
			upper := filepath.Join(overlayRoot, "upper", t.Name())
			work := filepath.Join(overlayRoot, "work", t.Name())
			if err := mkUpper(upper, lower); err != nil {
				return err
			}
			if err := os.MkdirAll(work, 0o700); err != nil {
				return fmt.Errorf("create %s: %w", work, err)
			}
			lowers := lower
			if inRoot {
				lowers += ":" + target
			}
			opts := "lowerdir=" + lowers + ",upperdir=" + upper + ",workdir=" + work
			if err := syscall.Mount("overlay", target, "overlay", syscall.MS_NODEV, opts); err != nil {
				return fmt.Errorf("mount overlay (%s) on %s: %w", opts, target, err)
			}
		case inRoot:
			opts := "lowerdir=" + lower + ":" + target
			if err := syscall.Mount("overlay", target, "overlay", syscall.MS_RDONLY|syscall.MS_NODEV, opts); err != nil {
				return fmt.Errorf("mount overlay (%s) on %s: %w", opts, target, err)
			}
		default:
			if err := syscall.Mount(lower, target, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
				return fmt.Errorf("bind %s on %s: %w", lower, target, err)
			}
		}
	}
	return nil
}

// mkUpper makes the overlay's upper directory with the owner and mode of
// the lower one: the merged directory takes them from the upper.
func mkUpper(upper, lower string) error {
	var st syscall.Stat_t
	if err := syscall.Stat(lower, &st); err != nil {
		return fmt.Errorf("stat %s: %w", lower, err)
	}
	if err := os.MkdirAll(upper, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", upper, err)
	}
	if err := os.Chown(upper, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("own %s: %w", upper, err)
	}
	if err := syscall.Chmod(upper, st.Mode&0o7777); err != nil {
		return fmt.Errorf("chmod %s: %w", upper, err)
	}
	return nil
}

func nonEmptyDir(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	return len(names) > 0
}

// findAppDisk waits for the block device with the app disk's serial or
// GPT partition name and returns its /dev path.
func findAppDisk(d *bootcfg.AppDisk) (string, error) {
	deadline := time.Now().Add(appDiskWait)
	for {
		if dev := scanBlock(d); dev != "" {
			return dev, nil
		}
		if time.Now().After(deadline) {
			var what []string
			if d.Serial != "" {
				what = append(what, "serial "+d.Serial)
			}
			if d.PartName != "" {
				what = append(what, "GPT partition "+d.PartName)
			}
			return "", fmt.Errorf("no app disk (a block device with %s) appeared within %v: the image's app is on its app disk (app.img), which keel run attaches; a VM started otherwise must attach it as a disk with that serial", strings.Join(what, " or "), appDiskWait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// scanBlock looks through /sys/class/block once.
func scanBlock(d *bootcfg.AppDisk) string {
	ents, err := os.ReadDir("/sys/class/block")
	if err != nil {
		return ""
	}
	for _, e := range ents {
		base := "/sys/class/block/" + e.Name()
		if d.Serial != "" {
			for _, f := range []string{base + "/serial", base + "/device/serial"} {
				if b, err := os.ReadFile(f); err == nil && strings.TrimSpace(string(b)) == d.Serial {
					return "/dev/" + e.Name()
				}
			}
		}
		if d.PartName != "" {
			if b, err := os.ReadFile(base + "/uevent"); err == nil {
				for _, l := range strings.Split(string(b), "\n") {
					if l == "PARTNAME="+d.PartName {
						return "/dev/" + e.Name()
					}
				}
			}
		}
	}
	return ""
}

// checkAppDisk tells a truncated or foreign disk before mounting it: the
// device must be as long as the filesystem, whose superblock must say the
// length the image recorded.
func checkAppDisk(dev string, d *bootcfg.AppDisk) error {
	name := filepath.Base(dev)
	if b, err := os.ReadFile("/sys/class/block/" + name + "/size"); err == nil {
		sectors, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if sectors*512 < d.Size {
			return fmt.Errorf("app disk %s: %d bytes, shorter than its filesystem's %d: the disk is truncated; fuse the image again", dev, sectors*512, d.Size)
		}
	}
	if d.FS != "squashfs" {
		return nil
	}
	f, err := os.Open(dev)
	if err != nil {
		return fmt.Errorf("open the app disk %s: %w", dev, err)
	}
	defer f.Close()
	sb := make([]byte, 96)
	if _, err := f.ReadAt(sb, 0); err != nil {
		return fmt.Errorf("read the app disk %s: %w", dev, err)
	}
	if binary.LittleEndian.Uint32(sb[0:4]) != 0x73717368 {
		return errors.New("app disk " + dev + ": no squashfs filesystem on it: the disk is corrupt, or not this image's; fuse the image again")
	}
	// bytes_used: the filesystem's length as written.
	if used := int64(binary.LittleEndian.Uint64(sb[40:48])); used != d.Size {
		return fmt.Errorf("app disk %s: its filesystem is %d bytes, the image's is %d: it is another image's app disk", dev, used, d.Size)
	}
	return nil
}
