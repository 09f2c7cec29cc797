package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	keelimage "github.com/keelvm/keel/image"
	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/internal/bootcfg"
	"github.com/keelvm/keel/internal/home"
	"github.com/keelvm/keel/internal/qemu"
)

var (
	appStartRe  = regexp.MustCompile(`app start monotonic-us (\d+)`)
	initStartRe = regexp.MustCompile(`(?:keel init \[.*\] starting \(pid 1, |bare init start )monotonic-us (\d+)`)
)

// benchBoot boots keel's init and a bare init that only execs the same app,
// under QEMU (TCG), and reports when the app started on the kernel's clock.
func benchBoot(scratch string, _ int) error {
	if err := qemu.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v: no boot figures\n", err)
		return nil
	}
	cache, err := home.Path("kernels")
	if err != nil {
		return err
	}
	k, err := kernel.Ensure(cache, "", os.Stderr)
	if err != nil {
		return err
	}
	dir := filepath.Join(scratch, "boot")
	os.MkdirAll(dir, 0o755)
	bins := map[string]string{
		"init":     "github.com/keelvm/keel/init",
		"bareinit": "github.com/keelvm/keel/internal/cmd/bench/bareinit",
		"hello":    "github.com/keelvm/keel/init/testdata/hello",
	}
	for out, pkg := range bins {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, out), pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", pkg, err, b)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "init"))
	if err != nil {
		return err
	}
	report("init.binary_mb", float64(fi.Size())/(1<<20), "MiB")
	app := initramfs.Entry{Path: "/app/hello", Kind: initramfs.File, Mode: 0o755, Source: filepath.Join(dir, "hello")}
	only := filepath.Join(dir, "init-only.img")
	if _, err := (keelimage.Build{Init: filepath.Join(dir, "init"), Config: bootcfg.Config{App: "/app/hello"}}).Write(only); err != nil {
		return err
	}
	fi, _ = os.Stat(only)
	report("init.initramfs_mb", float64(fi.Size())/(1<<20), "MiB")

	keelImg := filepath.Join(dir, "keel.img")
	if _, err := (keelimage.Build{Init: filepath.Join(dir, "init"), Kernel: k, Modules: []string{"virtio_pci", "virtio_net"},
		Config: bootcfg.Config{App: "/app/hello", Args: []string{"clock"}}, Files: []initramfs.Entry{app}}).Write(keelImg); err != nil {
		return err
	}
	bareImg := filepath.Join(dir, "bare.img")
	if _, err := (keelimage.Build{Init: filepath.Join(dir, "bareinit"), Files: []initramfs.Entry{app}}).Write(bareImg); err != nil {
		return err
	}
	measure := func(img string) (initToApp, kernelToApp float64, err error) {
		var a, b []float64
		for i := 0; i < 3; i++ {
			vm, err := qemu.Start(qemu.Config{Kernel: k.Vmlinuz, Initrd: img, Dir: dir, Cmdline: "console=ttyS0 panic=-1 quiet"})
			if err != nil {
				return 0, 0, err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			err = vm.Wait(ctx)
			cancel()
			console := vm.Console()
			am, im := appStartRe.FindStringSubmatch(console), initStartRe.FindStringSubmatch(console)
			if am == nil || im == nil {
				return 0, 0, fmt.Errorf("boot of %s printed no start times (%v):\n%s", img, err, console)
			}
			appUS, _ := strconv.ParseFloat(am[1], 64)
			initUS, _ := strconv.ParseFloat(im[1], 64)
			a = append(a, (appUS-initUS)/1000)
			b = append(b, appUS/1000)
		}
		sort.Float64s(a)
		sort.Float64s(b)
		return a[1], b[1], nil
	}
	keelInit, keelKernel, err := measure(keelImg)
	if err != nil {
		return err
	}
	bareInit, _, err := measure(bareImg)
	if err != nil {
		return err
	}
	report("boot.init_to_app_ms", keelInit, "ms")
	report("boot.kernel_to_app_ms", keelKernel, "ms")
	report("boot.bare_to_app_ms", bareInit, "ms")
	report("boot.keel_overhead_ms", keelInit-bareInit, "ms")
	return nil
}
