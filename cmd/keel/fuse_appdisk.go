package main

import (
	"flag"
	"os"
	"path/filepath"

	keelimage "github.com/keelvm/keel/image"
)

// placeFlags are keel fuse's flags for where the app lives and what
// memory it needs.
type placeFlags struct {
	appDisk string
	memory  int
}

func addPlaceFlags(fs *flag.FlagSet) *placeFlags {
	var p placeFlags
	fs.StringVar(&p.appDisk, "appdisk", "auto", "put the app on a read-only app disk (squashfs) instead of the initramfs: auto (apps over 20 MB), yes or no")
	fs.IntVar(&p.memory, "memory", 0, "the app's own memory in `MB` (default by runtime: 48, python 64, node 128, java 256); the image's need adds the kernel's, the initramfs's and the overlay's")
	return &p
}

func (p *placeFlags) apply(fu *keelimage.Fuse) {
	fu.AppDisk, fu.MemoryMB = p.appDisk, p.memory
}

// appDiskIn is the app disk fused into image directory dir, for the disk
// images to carry as a partition; "" when the app is in the initramfs.
func appDiskIn(dir string) string {
	p := filepath.Join(dir, keelimage.AppDiskFile)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}
