package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/keelvm/keel/bootcfg"
	keelimage "github.com/keelvm/keel/image"
	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/internal/home"
	"github.com/keelvm/keel/internal/qemu"
)

// benchLeanInit is the A/B of issue 21: this tree's init against a
// previous init binary ($KEEL_BENCH_PREV_INIT, e.g. bin/keel-init built
// from main before), both over the floor init, booted in alternation in
// the same run (the machine's speed drifts; docs/lean-init.md). Reports
// each one's boot.keel_over_floor_ms and their sizes. Without the
// variable it reports nothing: `make bench`'s boot figures stand alone.
func benchLeanInit(scratch string, _ int) error {
	prev := os.Getenv("KEEL_BENCH_PREV_INIT")
	if prev == "" {
		fmt.Fprintln(os.Stderr, "bench: leaninit: set KEEL_BENCH_PREV_INIT to a previous init binary for the A/B")
		return nil
	}
	if err := qemu.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v: no leaninit figures\n", err)
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
	b := &bootBench{dir: filepath.Join(scratch, "leaninit"), k: k}
	os.MkdirAll(b.dir, 0o755)
	for out, pkg := range map[string]string{"init": "github.com/keelvm/keel/init", "floorinit": "github.com/keelvm/keel/cmd/keel-bench/floorinit",
		"hello": "github.com/keelvm/keel/init/testdata/hello"} {
		cmd := exec.Command("go", "build", "-tags", "nethttpomithttp2", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(b.dir, out), pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", pkg, err, out)
		}
	}
	b.app = initramfs.Entry{Path: "/app/hello", Kind: initramfs.File, Mode: 0o755, Source: filepath.Join(b.dir, "hello")}
	cfg := bootcfg.Config{App: "/app/hello", Args: []string{"clock"}, User: "0"}
	newImg, err := b.image("new.img", cfg)
	if err != nil {
		return err
	}
	floorImg, err := b.floorImage()
	if err != nil {
		return err
	}
	prevImg := filepath.Join(b.dir, "prev.img")
	if _, err := (keelimage.Build{Init: prev, Kernel: b.k, Modules: nicModules, Config: cfg, Files: []initramfs.Entry{b.app}}).Write(prevImg); err != nil {
		return err
	}
	toExec := func(img string) (float64, error) {
		console, err := b.boot(img, os.Getenv("KEEL_BENCH_CMDLINE"))
		if os.Getenv("KEEL_BENCH_CONSOLE") != "" {
			fmt.Fprintf(os.Stderr, "=== %s\n%s\n", filepath.Base(img), console)
		}
		km := kernelRe.FindStringSubmatch(console)
		if km == nil {
			return 0, fmt.Errorf("boot of %s printed no start times (%v):\n%s", img, err, console)
		}
		f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v / 1000 }
		return f(km[2]) - f(km[1]), nil
	}
	var newT, prevT, floorT []float64
	rounds := 5
	if n, err := strconv.Atoi(os.Getenv("KEEL_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	for range rounds {
		for _, r := range []struct {
			img string
			to  *[]float64
		}{{newImg, &newT}, {prevImg, &prevT}, {floorImg, &floorT}} {
			v, err := toExec(r.img)
			if err != nil {
				return err
			}
			*r.to = append(*r.to, v)
		}
	}
	median := func(v []float64) float64 { sort.Float64s(v); return v[len(v)/2] }
	floor := median(floorT)
	report("leaninit.keel_over_floor_ms", median(newT)-floor, "ms")
	report("leaninit.prev_over_floor_ms", median(prevT)-floor, "ms")
	report("leaninit.saved_ms", median(prevT)-median(newT), "ms")
	for name, p := range map[string]string{"leaninit.binary_mb": filepath.Join(b.dir, "init"), "leaninit.prev_binary_mb": prev} {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		report(name, float64(fi.Size())/(1<<20), "MiB")
	}
	return nil
}
