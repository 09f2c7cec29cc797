package image

import (
	"os"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/store"
)

// KernelMB is what the kernel and keel's init take before the app: the
// kernel's text, data and page tables, its early allocations (TCG or not),
// init's Go runtime with the log shippers running (init.rss_mb: 14 idle,
// up to 36 shipping). Measured: the example app served requests at 128 MB
// (keel run's floor), and CPython from its app disk printed its line at
// 112 MB (docs/app-disk.md): 96 leaves the app's share to the app.
const KernelMB = 96

// RuntimeMB is the app's own memory by runtime (store.App.Runtime), when
// the fuse does not say: a JVM's heap defaults to a quarter of the
// machine's memory and its code cache, metaspace and threads come on top;
// CPython and Node need tens of MB to start; a Go or C program (runtime
// "") a few.
var RuntimeMB = map[string]int{"java": 256, "node": 128, "python": 64, "shell": 16, "": 48}

// memoryNeed computes what the image needs, in MB: the kernel and init,
// the initramfs twice (the compressed archive stays in memory while the
// kernel unpacks it into the page cache of the rootfs, which cannot be
// reclaimed), the overlay's bound, and the app.
func (f Fuse) memoryNeed(initrd string, entries []initramfs.Written, disk *bootcfg.AppDisk, runtime string) *store.Memory {
	var unpacked int64
	for _, e := range entries {
		unpacked += e.Size
	}
	var packed int64
	if fi, err := os.Stat(initrd); err == nil {
		packed = fi.Size()
	}
	m := &store.Memory{KernelMB: KernelMB, InitramfsMB: mbUp(unpacked + packed)}
	if disk != nil && len(disk.Writable) > 0 {
		m.OverlayMB = disk.OverlayMB
	}
	m.AppMB = f.MemoryMB
	if m.AppMB == 0 {
		m.AppMB = RuntimeMB[runtime]
		if _, ok := RuntimeMB[runtime]; !ok {
			m.AppMB = RuntimeMB[""]
		}
	}
	m.MinMB = m.KernelMB + m.InitramfsMB + m.OverlayMB + m.AppMB
	return m
}

func mbUp(n int64) int { return int((n + 1<<20 - 1) >> 20) }
