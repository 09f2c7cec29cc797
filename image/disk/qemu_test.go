package disk

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keelvm/keel/bootcfg"
	keelimage "github.com/keelvm/keel/image"
	"github.com/keelvm/keel/image/efi"
	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/internal/home"
	"github.com/keelvm/keel/internal/qemu"
	"github.com/keelvm/keel/internal/testutil"
	"github.com/keelvm/keel/vmtest"
)

// ovmf is Debian's UEFI firmware for x86-64 (package ovmf), one image with
// code and variables, as QEMU's -bios takes it.
const ovmf = "/usr/share/ovmf/OVMF.fd"

func TestMain(m *testing.M) {
	// QEMU's guestfwd runs this binary once per guest connection.
	qemu.ForwardIfAsked()
	code := m.Run()
	if binaries.dir != "" {
		os.RemoveAll(binaries.dir)
	}
	os.Exit(code)
}

// bootKit is what booting a disk needs from the host.
type bootKit struct {
	kernel *kernel.Kernel
	loader *efi.Loader
}

// requireQEMU finds QEMU, OVMF, the kernel and systemd-boot; on CI a
// missing one is a failure, never a skip.
func requireQEMU(t testing.TB) bootKit {
	t.Helper()
	if _, err := os.Stat(ovmf); err != nil {
		testutil.Unavailable(t, "UEFI firmware: %v: install the Debian package ovmf", err)
	}
	return requireBootKit(t)
}

// requireBootKit returns the kernel and systemd-boot, fetching them into
// keel's cache when missing.
func requireBootKit(t testing.TB) bootKit {
	t.Helper()
	kit := bootKit{kernel: vmtest.Kernel(t)}
	loaders, err := home.Path("efi")
	if err != nil {
		t.Fatal(err)
	}
	if kit.loader, err = efi.Ensure(loaders, nil); err != nil {
		testutil.Unavailable(t, "systemd-boot: %v", err)
	}
	return kit
}

// binaries are keel's init and the hello test app, built once per test
// binary: the machine's two cores are shared.
var binaries struct {
	once        sync.Once
	dir         string
	init, hello string
	err         error
}

func buildBinaries(t testing.TB) (initBin, hello string) {
	t.Helper()
	b := &binaries
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "keel-disk-test-"); b.err != nil {
			return
		}
		b.init, b.hello = filepath.Join(b.dir, "init"), filepath.Join(b.dir, "hello")
		vmtest.BuildStatic(t, "github.com/keelvm/keel/init", b.init)
		vmtest.BuildStatic(t, "github.com/keelvm/keel/init/testdata/hello", b.hello)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.init, b.hello
}

// writeInitrd writes an initramfs with keel's init, the hello app and the
// modules of VirtualBox's default NIC (e1000) and of the power button. It
// needs no disk driver: the firmware and systemd-boot load kernel and
// initramfs, and nothing mounts the disk.
func writeInitrd(t testing.TB, dir string, k *kernel.Kernel, cfg bootcfg.Config, extra ...initramfs.Entry) string {
	t.Helper()
	initBin, hello := buildBinaries(t)
	path := filepath.Join(dir, "initrd.img")
	b := keelimage.Build{Init: initBin, Kernel: k, Modules: []string{"e1000", "button", "evdev"}, Config: cfg,
		Files: append([]initramfs.Entry{{Path: "/app/hello", Kind: initramfs.File, Mode: 0o755, Source: hello}}, extra...)}
	if _, err := b.Write(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestQEMUDiskRaw(t *testing.T) { testQEMUDisk(t, Raw) }
func TestQEMUDiskVDI(t *testing.T) { testQEMUDisk(t, VDI) }

// testQEMUDisk boots a disk image in format f as VirtualBox would: UEFI
// firmware, the disk on the AHCI controller, an e1000 NIC. systemd-boot
// starts the kernel, keel's init brings the network up with DHCP and runs
// the hello app, whose first line must reach the local log server through
// the guestfwd with the image's write-only key; then the app's every line
// must be there once the machine has powered off.
func testQEMUDisk(t *testing.T, f Format) {
	kit := requireQEMU(t)
	srv := vmtest.NewLogServer(t, "keel/test", "alice/disk")
	ctx := context.Background()
	dir := t.TempDir()
	cfg := bootcfg.Config{App: "/app/hello", Logs: srv.Logs("alice/disk", "alice/disk:1.0")}
	initrd := writeInitrd(t, dir, kit.kernel, cfg, srv.Creds)
	img := filepath.Join(dir, "disk."+string(f))
	spec := Spec{Kernel: kit.kernel.Vmlinuz, Initrd: initrd, BootEFI: kit.loader.Path, Cmdline: "console=ttyS0 panic=-1"}
	if _, err := Write(spec, img, f); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	vm, err := qemu.Start(qemu.Config{Disk: img, DiskFormat: string(f), Firmware: ovmf, NIC: "e1000", Dir: t.TempDir(),
		Forwards: []qemu.Forward{srv.Forward()}})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Kill()
	bootCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		if msgs := appLines(srv); len(msgs) > 0 {
			if msgs[0] != "hello stdout 0" && msgs[0] != "hello stderr 0" {
				t.Fatalf("first app line in the log server: %q", msgs[0])
			}
			t.Logf("%s: first app line in the log server %.1fs after QEMU started", f, time.Since(start).Seconds())
			break
		}
		select {
		case <-bootCtx.Done():
			t.Fatalf("no app line in the log server after %v\nconsole:\n%s", time.Since(start), vm.Console())
		case <-time.After(250 * time.Millisecond):
		}
	}
	if err := vm.Wait(bootCtx); err != nil {
		t.Fatalf("VM did not power off: %v\nconsole:\n%s", err, vm.Console())
	}
	console := vm.Console()
	// The firmware names the boot device: the SATA disk on AHCI.
	for _, w := range []string{"from PciRoot(0x0)/Pci(0x1F,0x2)/Sata(", "Linux version", "e1000 0000:00:01.0 eth0", "dhcp on eth0: ok", "app exited with code 0"} {
		if !strings.Contains(console, w) {
			t.Errorf("console lacks %q", w)
		}
	}
	if got := strings.Join(appLines(srv), ","); len(strings.Split(got, ",")) != 6 {
		t.Errorf("app lines in the log server: %s", got)
	}
	if t.Failed() {
		t.Logf("console:\n%s", console)
	}
}

// appLines returns what the hello app wrote to stdout and stderr, as the
// log server has it so far (init's own lines about the app are left out).
func appLines(srv *vmtest.LogServer) []string {
	evs, _ := srv.TryEvents("alice/disk") // the stream does not exist until the first event
	var msgs []string
	for _, m := range evs {
		if m["source"] == "stdout" || m["source"] == "stderr" {
			msgs = append(msgs, fmt.Sprint(m["message"]))
		}
	}
	return msgs
}
