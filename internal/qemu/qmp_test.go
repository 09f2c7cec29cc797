package qemu_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/internal/qemu"
	"github.com/keelvm/keel/vmtest"
)

// TestQEMUCommaInDir: QEMU splits option values at commas, so the paths
// keel gives it (here the QMP socket's, in a run directory under a TMPDIR
// with a comma) must be escaped; the power button goes through QMP.
func TestQEMUCommaInDir(t *testing.T) {
	k := vmtest.Kernel(t)
	dir := filepath.Join(t.TempDir(), "a,b")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// An empty initramfs: the kernel finds no init and panics, which ends
	// the VM (panic=-1, -no-reboot) if the test does not.
	initrd := filepath.Join(dir, "initrd.img")
	f, err := os.Create(initrd)
	if err != nil {
		t.Fatal(err)
	}
	_, err = initramfs.New().WriteTo(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	vm, err := qemu.Start(qemu.Config{Kernel: k.Vmlinuz, Initrd: initrd, Dir: dir, Cmdline: "console=ttyS0 panic=-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Kill()
	// QEMU listens on the socket moments after it starts.
	var perr error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if perr = vm.PowerButton(); perr == nil {
			return
		}
	}
	t.Fatalf("power button through QMP in %s: %v\n%s", dir, perr, vm.Console())
}
