package disk

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keelvm/keel/bootcfg"
	keelimage "github.com/keelvm/keel/image"
	"github.com/keelvm/keel/image/appfs"
	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/internal/qemu"
	"github.com/keelvm/keel/internal/testutil"
)

// TestQEMUDiskAppPartition boots a disk image whose app is on its second
// GPT partition (named keel-app), as VirtualBox would (AHCI): init loads
// the SATA disk's modules, finds the partition by its name, mounts it and
// runs the app from it.
func TestQEMUDiskAppPartition(t *testing.T) {
	kit := requireQEMU(t)
	if _, err := exec.LookPath(appfs.Mksquashfs); err != nil {
		testutil.Unavailable(t, "mksquashfs: %v (apt-get install squashfs-tools)", err)
	}
	initBin, hello := buildBinaries(t)
	dir := t.TempDir()
	app := filepath.Join(dir, "app.img")
	res, err := appfs.Write(app, []initramfs.Entry{
		{Path: "/app/hello", Kind: initramfs.File, Mode: 0o755, Source: hello},
		{Path: "/app/data/greeting", Kind: initramfs.File, Mode: 0o644, Data: []byte("hi\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := bootcfg.Config{App: "/app/hello", AppDisk: &bootcfg.AppDisk{FS: appfs.FSType, PartName: AppPartName, Size: res.Used, Writable: []string{"/app"}, OverlayMB: 8}}
	initrd := filepath.Join(dir, "initrd.img")
	b := keelimage.Build{Init: initBin, Kernel: kit.kernel, Modules: []string{"e1000", "button", "evdev"}, Config: cfg,
		DiskModules: []string{"ahci", "sd_mod", "squashfs", "overlay"}}
	if _, err := b.Write(initrd); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "disk.raw")
	spec := Spec{Kernel: kit.kernel.Vmlinuz, Initrd: initrd, BootEFI: kit.loader.Path, Cmdline: "console=ttyS0 panic=-1 keel.net=none", AppDisk: app}
	if _, err := Write(spec, img, Raw); err != nil {
		t.Fatal(err)
	}
	vm, err := qemu.Start(qemu.Config{Disk: img, Firmware: ovmf, NIC: "e1000", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := vm.Wait(ctx); err != nil {
		t.Fatalf("VM did not power off: %v\nconsole:\n%s", err, vm.Console())
	}
	console := vm.Console()
	for _, w := range []string{"app disk: ok", "hello stdout 0", "app exited with code 0"} {
		if !strings.Contains(console, w) {
			t.Fatalf("console lacks %q:\n%s", w, console)
		}
	}
}
