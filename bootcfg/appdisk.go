package bootcfg

import (
	"errors"
	"fmt"
	"path"
)

// AppDisk is the read-only filesystem image that holds the app, which init
// mounts instead of the app being unpacked into RAM with the initramfs.
// Its top-level directories appear at the same places in the root (a
// directory the initramfs also has, such as /lib, shows both); Writable
// ones get a tmpfs overlay, so that the app may write there.
type AppDisk struct {
	FS string `json:"fs"` // squashfs
	// Serial is the disk's serial number (a virtio disk of keel run, an
	// NVMe namespace); PartName the name of its GPT partition. init takes
	// the first block device that has either.
	Serial   string `json:"serial,omitempty"`
	PartName string `json:"partname,omitempty"`
	// Size is the filesystem's length in bytes: a device shorter than
	// this is a truncated disk.
	Size int64 `json:"size"`
	// Modules are .ko paths in load order that the disk needs (its
	// controller, the filesystem, overlay), loaded before it is looked for.
	Modules []string `json:"modules,omitempty"`
	// Writable are the directories (of the disk's) that get a tmpfs
	// overlay; OverlayMB bounds what is written there, all together.
	Writable  []string `json:"writable,omitempty"`
	OverlayMB int      `json:"overlay_mb,omitempty"`
}

func (d *AppDisk) check() error {
	if d.FS != "squashfs" && d.FS != "erofs" {
		return fmt.Errorf("app_disk.fs %q: use squashfs or erofs", d.FS)
	}
	if d.Serial == "" && d.PartName == "" {
		return errors.New("app_disk: give serial or partname, how init finds the disk")
	}
	if d.Size <= 0 {
		return fmt.Errorf("app_disk.size %d: must be positive", d.Size)
	}
	for _, m := range d.Modules {
		if err := checkModule(m); err != nil {
			return fmt.Errorf("app_disk.modules %q: %w", m, err)
		}
	}
	for _, w := range d.Writable {
		if !path.IsAbs(w) || path.Clean(w) != w || w == "/" {
			return fmt.Errorf("app_disk.writable %q: want an absolute directory other than /", w)
		}
	}
	if d.OverlayMB < 0 {
		return fmt.Errorf("app_disk.overlay_mb %d: must not be negative", d.OverlayMB)
	}
	return nil
}

// Unpacked is the last file of an image's initramfs: init checks that it
// is there, since the kernel boots on a partly unpacked archive (out of
// memory) without a word on the console.
const Unpacked = "/.keel-unpacked"
