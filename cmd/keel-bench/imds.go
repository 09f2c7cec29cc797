package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/keelvm/keel/bootcfg"
	keelimage "github.com/keelvm/keel/image"
	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/imds"
	"github.com/keelvm/keel/internal/home"
	"github.com/keelvm/keel/internal/qemu"
)

// benchIMDS: what the instance's identity and user data through IMDSv2
// add to the boot, as keel run gives them (a local IMDS at
// 169.254.169.254 on the link-local network): the kernel's "Run /init" to
// the app's exec, median of three boots each, with the metadata service
// and on QEMU's default network without one (where init finds no route
// and does not wait). The credentials are fetched after the app's start
// and add nothing here. TCG.
func benchIMDS(scratch string, _ int) error {
	if err := qemu.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v: no imds figures\n", err)
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
	dir := filepath.Join(scratch, "imds")
	os.MkdirAll(dir, 0o755)
	for out, pkg := range map[string]string{"init": "github.com/keelvm/keel/init", "hello": "github.com/keelvm/keel/init/testdata/hello"} {
		cmd := exec.Command("go", "build", "-tags", "nethttpomithttp2", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, out), pkg) // the Makefile's build
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", pkg, err, out)
		}
	}
	img := filepath.Join(dir, "keel.img")
	app := initramfs.Entry{Path: "/app/hello", Kind: initramfs.File, Mode: 0o755, Source: filepath.Join(dir, "hello")}
	if _, err := (keelimage.Build{Init: filepath.Join(dir, "init"), Kernel: k, Modules: nicModules,
		Config: bootcfg.Config{App: "/app/hello", Args: []string{"clock"}, User: "0"}, Files: []initramfs.Entry{app}}).Write(img); err != nil {
		return err
	}
	srv := &imds.Server{InstanceID: "i-0123456789abcdef0", Region: "us-east-1",
		UserData: []byte("# keel run's\nkeel.env=FROM=userdata\n")}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(l)
	defer hs.Close()
	// KEEL_BENCH_BASELINE_INIT names another build of init (say, the one
	// before a change) whose image is booted in the same rounds: the A/B of
	// what a change adds to the boot without IMDS, on these noisy machines.
	images := map[string]string{"keel": img}
	if base := os.Getenv("KEEL_BENCH_BASELINE_INIT"); base != "" {
		images["baseline"] = filepath.Join(dir, "baseline.img")
		if _, err := (keelimage.Build{Init: base, Kernel: k, Modules: nicModules,
			Config: bootcfg.Config{App: "/app/hello", Args: []string{"clock"}, User: "0"}, Files: []initramfs.Entry{app}}).Write(images["baseline"]); err != nil {
			return err
		}
	}
	boot := func(img, imdsAddr string) (float64, error) {
		vm, err := qemu.Start(qemu.Config{Accel: "tcg", Kernel: k.Vmlinuz, Initrd: img, Dir: dir, IMDS: imdsAddr,
			Cmdline: "console=ttyS0 panic=-1 quiet"})
		if err != nil {
			return 0, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
		err = vm.Wait(ctx)
		cancel()
		console := vm.Console()
		km := kernelRe.FindStringSubmatch(console)
		if err != nil || km == nil {
			vm.Kill()
			return 0, fmt.Errorf("imds boot printed no start times (%v):\n%s", err, console)
		}
		if os.Getenv("KEEL_BENCH_CONSOLE") != "" {
			fmt.Fprintln(os.Stderr, console)
		}
		f := func(s string) float64 { x, _ := strconv.ParseFloat(s, 64); return x / 1000 }
		return f(km[2]) - f(km[1]), nil
	}
	// Rounds of one boot each, interleaved, so that the machine's drift
	// hits every kind alike; medians of five.
	runs := map[string][]float64{}
	for i := 0; i < 5; i++ {
		for _, kind := range []string{"with", "without", "baseline"} {
			img, addr := images["keel"], ""
			switch kind {
			case "with":
				addr = l.Addr().String()
			case "baseline":
				if img = images["baseline"]; img == "" {
					continue
				}
			}
			v, err := boot(img, addr)
			if err != nil {
				return err
			}
			runs[kind] = append(runs[kind], v)
			fmt.Fprintf(os.Stderr, "bench: imds round %d %s: %.0f ms\n", i+1, kind, v)
		}
	}
	median := func(v []float64) float64 { sort.Float64s(v); return v[len(v)/2] }
	with, without := median(runs["with"]), median(runs["without"])
	report("imds.init_to_app_ms", with, "ms")
	report("imds.init_to_app_without_ms", without, "ms")
	report("imds.boot_ms", with-without, "ms")
	if b := runs["baseline"]; len(b) > 0 {
		report("imds.init_to_app_baseline_ms", median(b), "ms")
		report("imds.vs_baseline_ms", without-median(b), "ms")
	}
	return nil
}
