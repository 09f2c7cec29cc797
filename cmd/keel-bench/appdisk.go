package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/internal/home"
	"github.com/keelvm/keel/internal/qemu"
)

// pythonHome is this machine's CPython, copied in part as the Python app.
const pythonHome = "/root/.pyenv/versions/3.11.7"

// benchPython and benchThreshold measure where an app should live: on the read-only app
// disk (squashfs) or unpacked into RAM with the initramfs. Under TCG, from
// QEMU's start to the app's first line on the console, for a CPython
// directory (run.python_first_line_s, A/B against the initramfs) and for a
// static Go app with data files of growing size (the threshold figures);
// and the least memory the CPython image boots in (run.python_memory_mb).
// It runs the keel and keel-init that make build put in bin/.

// benchPython is benchAppDisk's run.python figures alone.
func benchPython(scratch string, _ int) error { return appDiskFigures(scratch, false, true) }

// benchThreshold is benchAppDisk's threshold figures alone.
func benchThreshold(scratch string, _ int) error { return appDiskFigures(scratch, true, false) }

func appDiskFigures(scratch string, threshold, python bool) error {
	a, err := newAppDiskBench(scratch)
	if a == nil || err != nil {
		return err
	}
	if python {
		if _, err := os.Stat(filepath.Join(pythonHome, "bin/python3.11")); err == nil {
			if err := a.python(); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(os.Stderr, "bench: no CPython at %s: no run.python figures\n", pythonHome)
		}
	}
	if !threshold {
		return nil
	}
	return a.threshold()
}

// newAppDiskBench checks what the app disk figures need and makes their
// keel home; nil without QEMU (said on stderr).
func newAppDiskBench(scratch string) (*appDiskBench, error) {
	if err := qemu.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v: no app disk figures\n", err)
		return nil, nil
	}
	if _, err := exec.LookPath("mksquashfs"); err != nil {
		return nil, fmt.Errorf("mksquashfs: %w (apt-get install squashfs-tools)", err)
	}
	keelBin, err := filepath.Abs("bin/keel")
	if err != nil {
		return nil, err
	}
	for _, b := range []string{"bin/keel", "bin/keel-init", "bin/hello"} {
		if _, err := os.Stat(b); err != nil {
			return nil, fmt.Errorf("%s: run make build first (make bench does): %w", b, err)
		}
	}
	cache, err := home.Path("kernels")
	if err != nil {
		return nil, err
	}
	if _, err := kernel.Ensure(cache, "", os.Stderr); err != nil {
		return nil, err
	}
	a := &appDiskBench{dir: filepath.Join(scratch, "appdisk"), keel: keelBin}
	a.home = filepath.Join(a.dir, "keel-home")
	if err := os.MkdirAll(a.home, 0o755); err != nil {
		return nil, err
	}
	if err := os.Symlink(cache, filepath.Join(a.home, "kernels")); err != nil && !os.IsExist(err) {
		return nil, err
	}
	return a, nil
}

type appDiskBench struct {
	dir, home, keel string
}

// fuse fuses app into name with the app disk or not; logs to the console
// only, so that a boot needs no log server.
func (a *appDiskBench) fuse(app, entry, name, appDisk string, args ...string) (time.Duration, error) {
	cmdArgs := []string{"fuse", app, "-name", name, "-force", "-appdisk", appDisk, "-logs.type", "console"}
	if entry != "" {
		cmdArgs = append(cmdArgs, "-entrypoint", entry)
	}
	cmd := exec.Command(a.keel, append(append(cmdArgs, "--"), args...)...)
	cmd.Env = append(os.Environ(), "KEEL_HOME="+a.home, "KEEL_INIT="+mustAbs("bin/keel-init"))
	t0 := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("keel fuse %s: %v\n%s", app, err, out)
	}
	return time.Since(t0), nil
}

// firstLine boots image name (TCG, memMB) and returns the time from
// QEMU's start to line on its console; ok is false when the VM stopped
// without printing it.
func (a *appDiskBench) firstLine(name string, memMB int, line string) (time.Duration, bool, error) {
	d, _, ok, err := a.firstLineGuest(name, memMB, line)
	return d, ok, err
}

var (
	unpackRe   = regexp.MustCompile(`\[\s*([0-9.]+)\] Trying to unpack rootfs`)
	unpackedRe = regexp.MustCompile(`\[\s*([0-9.]+)\] Freeing initrd memory`)
	appDiskRe  = regexp.MustCompile(`app disk: ok \(([0-9.]+)(ms|s)\)`)
)

// placeCost is what the app's place costs in a boot, on the guest's
// clock: the kernel's unpacking of the initramfs (from its log: "Trying
// to unpack rootfs" to "Freeing initrd memory") plus init's app disk step
// (modules, finding the disk, mounting it and its overlays). Under a
// loaded host whole boots vary by seconds; these two steps much less.
func placeCost(console string) (time.Duration, bool) {
	a, b := unpackRe.FindStringSubmatch(console), unpackedRe.FindStringSubmatch(console)
	if a == nil || b == nil {
		return 0, false
	}
	t0, _ := strconv.ParseFloat(a[1], 64)
	t1, _ := strconv.ParseFloat(b[1], 64)
	d := time.Duration((t1 - t0) * float64(time.Second))
	if m := appDiskRe.FindStringSubmatch(console); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		if m[2] == "s" {
			v *= 1000
		}
		d += time.Duration(v * float64(time.Millisecond))
	}
	return d, true
}

// firstLineGuest is firstLine that also returns the boot's placeCost.
func (a *appDiskBench) firstLineGuest(name string, memMB int, line string) (time.Duration, time.Duration, bool, error) {
	user, rest, _ := strings.Cut(name, "/")
	app, version, _ := strings.Cut(rest, ":")
	dir := filepath.Join(a.home, "images", user, app, version)
	var m struct {
		Cmdline string          `json:"cmdline"`
		AppDisk *struct{}       `json:"app_disk"`
		Config  json.RawMessage `json:"config"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return 0, 0, false, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return 0, 0, false, err
	}
	cfg := qemu.Config{Accel: "tcg", Kernel: filepath.Join(dir, "vmlinuz"), Initrd: filepath.Join(dir, "initrd.img"),
		Cmdline: strings.Replace(m.Cmdline, " quiet", "", 1) + " keel.net=none", MemoryMB: memMB, Dir: a.dir}
	if m.AppDisk != nil {
		cfg.AppDisk, cfg.AppDiskSerial = filepath.Join(dir, "app.img"), "keel-app"
	}
	t0 := time.Now()
	vm, err := qemu.Start(cfg)
	if err != nil {
		return 0, 0, false, err
	}
	defer vm.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	if err := vm.WaitFor(ctx, line); err != nil {
		return 0, 0, false, nil
	}
	wall := time.Since(t0)
	cost, ok := placeCost(vm.Console())
	if !ok {
		return 0, 0, false, fmt.Errorf("%s: no initramfs unpacking in the kernel's log", name)
	}
	return wall, cost, true, nil
}

// median3Guest boots three times and returns the median times: to the
// line (wall clock), and the placeCost.
func (a *appDiskBench) median3Guest(name string, memMB int, line string) (time.Duration, time.Duration, error) {
	var ds, gs []time.Duration
	for i := 0; i < 3; i++ {
		d, g, ok, err := a.firstLineGuest(name, memMB, line)
		if err != nil {
			return 0, 0, err
		}
		if !ok {
			return 0, 0, fmt.Errorf("%s did not print %q in %d MB", name, line, memMB)
		}
		ds, gs = append(ds, d), append(gs, g)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	sort.Slice(gs, func(i, j int) bool { return gs[i] < gs[j] })
	return ds[1], gs[1], nil
}

func (a *appDiskBench) python() error {
	py := filepath.Join(a.dir, "python")
	if err := copyPython(py); err != nil {
		return err
	}
	const line = "first line from python"
	script := "print('" + line + "')"
	dDisk, err := a.fuse(py, "bin/python3.11", "bench/py:disk", "yes", "-c", script)
	if err != nil {
		return err
	}
	dRAM, err := a.fuse(py, "bin/python3.11", "bench/py:ram", "no", "-c", script)
	if err != nil {
		return err
	}
	report("fuse.python_appdisk_s", dDisk.Seconds(), "s (CPython directory, 48 MB; initramfs: "+fmt.Sprintf("%.1f", dRAM.Seconds())+" s)")
	disk, diskPlace, err := a.median3Guest("bench/py:disk", 512, line)
	if err != nil {
		return err
	}
	ram, ramPlace, err := a.median3Guest("bench/py:ram", 512, line)
	if err != nil {
		return err
	}
	report("run.python_place_ms", float64(diskPlace.Milliseconds()), "ms (app disk: the initramfs's unpacking plus the disk's mount, guest clock)")
	report("run.python_place_ram_ms", float64(ramPlace.Milliseconds()), "ms (initramfs: its unpacking, guest clock)")
	report("run.python_first_line_s", disk.Seconds(), "s (app disk, TCG, QEMU start to the line, median of 3)")
	report("run.python_first_line_ram_s", ram.Seconds(), "s (the same unpacked into RAM with the initramfs)")
	least := 0
	for mem := 256; mem >= 96; mem -= 16 {
		_, ok, err := a.firstLine("bench/py:disk", mem, line)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		least = mem
	}
	report("run.python_memory_mb", float64(least), "MB (least that printed the line, in steps of 16; goal <= 256)")
	leastRAM := 0
	for mem := 512; mem >= 96; mem -= 32 {
		_, ok, err := a.firstLine("bench/py:ram", mem, line)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		leastRAM = mem
	}
	report("run.python_memory_ram_mb", float64(leastRAM), "MB (the same in the initramfs, in steps of 32)")
	return nil
}

// threshold boots the example app with data files of growing size (parts
// of CPython's standard library: text, as compressible as code) from the
// initramfs and from the app disk.
func (a *appDiskBench) threshold() error {
	hello := filepath.Join(a.dir, "hello")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", hello, "github.com/keelvm/keel/init/testdata/hello")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build the test app: %v\n%s", err, out)
	}
	for _, mb := range []int{0, 16, 48} {
		app := filepath.Join(a.dir, fmt.Sprintf("app%d", mb))
		if err := os.MkdirAll(filepath.Join(app, "data"), 0o755); err != nil {
			return err
		}
		if err := copyFile(hello, filepath.Join(app, "hello"), 0o755); err != nil {
			return err
		}
		if err := fillData(filepath.Join(app, "data"), int64(mb)<<20); err != nil {
			return err
		}
		// hello limits prints its limits and exits: the first line.
		for _, where := range []string{"no", "yes"} {
			name := fmt.Sprintf("bench/size%d:%s", mb, where)
			if _, err := a.fuse(app, "hello", name, where, "limits"); err != nil {
				return err
			}
			_, g, err := a.median3Guest(name, 512, "nofile ")
			if err != nil {
				return err
			}
			label := map[string]string{"no": "initramfs", "yes": "appdisk"}[where]
			report(fmt.Sprintf("appdisk.threshold_%dmb_%s_ms", mb, label), float64(g.Milliseconds()), "ms (static app + data, TCG: the kernel's unpacking of the initramfs plus init's app disk step, guest clock, median of 3)")
		}
	}
	return nil
}

func copyPython(dst string) error {
	sh := `set -e; rm -rf "$2"; mkdir -p "$2/bin" "$2/lib"; cp "$1/bin/python3.11" "$2/bin/"; cp "$1/lib/libpython3.11.so.1.0" "$2/lib/";
cd "$1/lib"; tar cf - --exclude=test --exclude=tests --exclude=idlelib --exclude=tkinter --exclude=turtledemo --exclude=ensurepip --exclude=lib2to3 --exclude='config-3.11-*' --exclude=site-packages --exclude=__pycache__ --exclude=pydoc_data python3.11 | (cd "$2/lib" && tar xf -)`
	if out, err := exec.Command("sh", "-c", sh, "sh", pythonHome, dst).CombinedOutput(); err != nil {
		return fmt.Errorf("copy CPython: %v\n%s", err, out)
	}
	return nil
}

// fillData copies .py files of CPython's library into dir until n bytes.
func fillData(dir string, n int64) error {
	var have int64
	i := 0
	for have < n {
		err := filepath.WalkDir(filepath.Join(pythonHome, "lib/python3.11"), func(p string, d os.DirEntry, err error) error {
			if err != nil || have >= n {
				return filepath.SkipAll
			}
			if d.IsDir() || !strings.HasSuffix(p, ".py") {
				return nil
			}
			i++
			fi, err := d.Info()
			if err != nil {
				return nil
			}
			if err := copyFile(p, filepath.Join(dir, fmt.Sprintf("%05d.py", i)), 0o644); err != nil {
				return err
			}
			have += fi.Size()
			return nil
		})
		if err != nil {
			return err
		}
		if i == 0 {
			return fmt.Errorf("no .py files under %s", pythonHome)
		}
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}
