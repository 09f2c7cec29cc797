package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/keelvm/keel/bootcfg"
	keelimage "github.com/keelvm/keel/image"
	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/internal/home"
	"github.com/keelvm/keel/internal/qemu"
	"github.com/keelvm/keel/logs"
	"github.com/keelvm/keel/logserver"
	"github.com/keelvm/keel/logserver/auth"
)

// init serves the guestfwd connections of the VMs of the boot figures:
// QEMU runs this binary once per connection (qemu.Config.ForwardCmd).
func init() { qemu.ForwardIfAsked() }

var (
	appStartRe  = regexp.MustCompile(`app start monotonic-us (\d+)`)
	kernelRe    = regexp.MustCompile(`kernel clock: init exec-us (\d+) app exec-us (\d+) app start-us (\d+)`)
	initStartRe = regexp.MustCompile(`(?:keel init \[.*\] starting \(pid 1, |(?:bare|floor) init start )monotonic-us (\d+)`)
	rssIdleRe   = regexp.MustCompile(`init rss idle: (\d+) kB`)
	rssBusyRe   = regexp.MustCompile(`init rss at (\d+) lines/s: (\d+) kB`)
	reapRe      = regexp.MustCompile(`orphans reaped: (\d+) in (\d+) ms`)
)

// bootBench holds what the boot figures share.
type bootBench struct {
	dir      string
	k        *kernel.Kernel
	app      initramfs.Entry
	nicPaths []string // the NIC's modules in keel's images, in load order
}

// benchBoot boots keel's init and a bare init that only execs the same app,
// under QEMU (TCG), and reports when the app started on the kernel's clock;
// then init's memory, idle and under a flood of lines shipped to a local
// log server, and how fast it reaps orphans.
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
	b := &bootBench{dir: filepath.Join(scratch, "boot"), k: k}
	os.MkdirAll(b.dir, 0o755)
	bins := map[string]string{
		"init":      "github.com/keelvm/keel/init",
		"bareinit":  "github.com/keelvm/keel/cmd/keel-bench/bareinit",
		"floorinit": "github.com/keelvm/keel/cmd/keel-bench/floorinit",
		"hello":     "github.com/keelvm/keel/init/testdata/hello",
	}
	for out, pkg := range bins {
		// The Makefile's flags and tags (nethttpomithttp2: no HTTP/2).
		cmd := exec.Command("go", "build", "-tags", "nethttpomithttp2", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(b.dir, out), pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", pkg, err, out)
		}
	}
	fi, err := os.Stat(filepath.Join(b.dir, "init"))
	if err != nil {
		return err
	}
	report("init.binary_mb", float64(fi.Size())/(1<<20), "MiB")
	b.app = initramfs.Entry{Path: "/app/hello", Kind: initramfs.File, Mode: 0o755, Source: filepath.Join(b.dir, "hello")}
	only := filepath.Join(b.dir, "init-only.img")
	if _, err := (keelimage.Build{Init: filepath.Join(b.dir, "init"), Config: bootcfg.Config{App: "/app/hello"}}).Write(only); err != nil {
		return err
	}
	fi, _ = os.Stat(only)
	report("init.initramfs_mb", float64(fi.Size())/(1<<20), "MiB")
	if err := b.startTimes(); err != nil {
		return err
	}
	if err := b.memory(); err != nil {
		return err
	}
	return b.reaping()
}

// image writes an initramfs of keel's init with the hello app and a virtio
// NIC's modules, whose paths in the image it keeps for floorImage.
func (b *bootBench) image(name string, cfg bootcfg.Config, extra ...initramfs.Entry) (string, error) {
	p := filepath.Join(b.dir, name)
	mods, err := (keelimage.Build{Init: filepath.Join(b.dir, "init"), Kernel: b.k, Modules: nicModules,
		Config: cfg, Files: append([]initramfs.Entry{b.app}, extra...)}).Write(p)
	b.nicPaths = mods
	return p, err
}

// floorImage writes floorinit's image: the modules of keel's (image ran
// first), listed plainly for it, as floorinit reads no JSON.
func (b *bootBench) floorImage() (string, error) {
	p := filepath.Join(b.dir, "floor.img")
	list := initramfs.Entry{Path: "/etc/floor-modules", Kind: initramfs.File, Mode: 0o644, Data: []byte(strings.Join(b.nicPaths, "\n") + "\n")}
	_, err := (keelimage.Build{Init: filepath.Join(b.dir, "floorinit"), Kernel: b.k, Modules: nicModules,
		Config: bootcfg.Config{App: "/app/hello"}, Files: []initramfs.Entry{b.app, list}}).Write(p)
	return p, err
}

// nicModules are the modules of the NIC the boot figures' VMs have
// (qemu.Start's virtio-net); the image builder adds their dependencies.
var nicModules = []string{"virtio_pci", "virtio_net"}

// boot runs a VM to its power-off and returns its console.
func (b *bootBench) boot(img, cmdline string, fwd ...qemu.Forward) (string, error) {
	// TCG whatever the machine offers: the goal is set under TCG.
	vm, err := qemu.Start(qemu.Config{Accel: "tcg", Kernel: b.k.Vmlinuz, Initrd: img, Dir: b.dir, Forwards: fwd, Cmdline: "console=ttyS0 panic=-1 quiet " + cmdline})
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	err = vm.Wait(ctx)
	if err != nil {
		vm.Kill()
	}
	return vm.Console(), err
}

// startTimes: from init's first instruction (the kernel's "Run /init"
// record) to the app's exec (the record init writes when it has started
// the app: "keel: app started"), both on the kernel log's clock, for keel
// (the app waiting for the network, the default, and not waiting) and for
// the bare init; the median of three boots each. Also to the app's own
// first record: its Go runtime's start, which whatever init does beside
// it slows down; for that the app runs as root, to write and read the
// kernel log. And from init's main (its own clock), which leaves out
// keel's Go runtime and package initialisation.
func (b *bootBench) startTimes() error {
	keelImg, err := b.image("keel.img", bootcfg.Config{App: "/app/hello", Args: []string{"clock"}, User: "0"})
	if err != nil {
		return err
	}
	bareImg := filepath.Join(b.dir, "bare.img")
	if _, err := (keelimage.Build{Init: filepath.Join(b.dir, "bareinit"), Files: []initramfs.Entry{b.app}}).Write(bareImg); err != nil {
		return err
	}
	type times struct{ toExec, toRunning, mainToRunning, kernelToExec float64 }
	median := func(v []float64) float64 { sort.Float64s(v); return v[len(v)/2] }
	measure := func(img, cmdline string) (times, error) {
		var exec, running, main, kern []float64
		for i := 0; i < 3; i++ {
			console, err := b.boot(img, cmdline)
			km, am, im := kernelRe.FindStringSubmatch(console), appStartRe.FindStringSubmatch(console), initStartRe.FindStringSubmatch(console)
			if km == nil || am == nil || im == nil {
				return times{}, fmt.Errorf("boot of %s printed no start times (%v):\n%s", img, err, console)
			}
			f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v / 1000 }
			if f(km[1]) <= 0 || f(km[2]) <= 0 || f(km[3]) <= 0 {
				return times{}, fmt.Errorf("boot of %s: the kernel log lacks init's, the app's exec or the app's record:\n%s", img, console)
			}
			exec = append(exec, f(km[2])-f(km[1]))
			running = append(running, f(km[3])-f(km[1]))
			main = append(main, f(am[1])-f(im[1]))
			kern = append(kern, f(km[2]))
		}
		return times{median(exec), median(running), median(main), median(kern)}, nil
	}
	keel, err := measure(keelImg, "")
	if err != nil {
		return err
	}
	floorImg, err := b.floorImage()
	if err != nil {
		return err
	}
	floor, err := measure(floorImg, "")
	if err != nil {
		return err
	}
	noWait, err := measure(keelImg, "keel.wait=none")
	if err != nil {
		return err
	}
	bare, err := measure(bareImg, "")
	if err != nil {
		return err
	}
	report("boot.init_to_app_ms", keel.toExec, "ms")
	report("boot.kernel_to_app_ms", keel.kernelToExec, "ms")
	report("boot.bare_to_app_ms", bare.toExec, "ms")
	report("boot.keel_overhead_ms", keel.toExec-bare.toExec, "ms")
	report("boot.floor_to_app_ms", floor.toExec, "ms")
	report("boot.floor_overhead_ms", floor.toExec-bare.toExec, "ms")
	report("boot.keel_over_floor_ms", keel.toExec-floor.toExec, "ms")
	report("boot.init_to_app_nowait_ms", noWait.toExec, "ms")
	report("boot.keel_overhead_nowait_ms", noWait.toExec-bare.toExec, "ms")
	report("boot.init_to_app_running_ms", keel.toRunning, "ms")
	report("boot.bare_to_app_running_ms", bare.toRunning, "ms")
	report("boot.keel_overhead_running_ms", keel.toRunning-bare.toRunning, "ms")
	report("boot.keel_overhead_after_main_ms", keel.mainToRunning-bare.mainToRunning, "ms")
	return nil
}

// memory: init's resident memory (read by the app from /proc/1/status)
// idle, then while the app writes 50,000 lines/s for 3 s that init ships
// to a local log server through the guestfwd.
func (b *bootBench) memory() error {
	// A fresh server each run: -dir may hold the last run's keys.
	data := filepath.Join(b.dir, "logserver")
	if err := os.RemoveAll(data); err != nil {
		return err
	}
	st, stop, err := logserver.Start(logserver.RunConfig{Addr: "127.0.0.1:0", DataDir: data, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer stop()
	kr, _, err := auth.OpenKeyring(data)
	if err != nil {
		return err
	}
	vmKey, err := kr.Create("bench-vm", &auth.Scope{Group: "bench", StreamPrefix: "rss"})
	if err != nil {
		return err
	}
	c, err := logs.AdminClient(data, st.Endpoint)
	if err != nil {
		return err
	}
	if _, err := c.CreateLogGroup(context.Background(), &cwl.CreateLogGroupInput{LogGroupName: aws.String("bench")}); err != nil {
		return err
	}
	creds := keelimage.Credentials(vmKey)
	img, err := b.image("rss.img", bootcfg.Config{App: "/app/hello", Args: []string{"rss", "50000", "3s"},
		Logs: &bootcfg.Logs{Group: "bench", Stream: "rss", Endpoint: "http://10.0.2.100:4566"}}, creds)
	if err != nil {
		return err
	}
	console, err := b.boot(img, "", qemu.Forward{Port: 4566, Host: strings.TrimPrefix(st.Endpoint, "http://")})
	idle, busy := rssIdleRe.FindStringSubmatch(console), rssBusyRe.FindStringSubmatch(console)
	if idle == nil || busy == nil {
		return fmt.Errorf("the rss boot printed no figures (%v):\n%s", err, console)
	}
	kb := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v / 1024 }
	rate, _ := strconv.ParseFloat(busy[1], 64)
	report("init.rss_mb", kb(idle[1]), "MiB")
	report("init.rss_busy_mb", kb(busy[2]), "MiB")
	report("init.rss_busy_lines_per_s", rate, "lines/s")
	return nil
}

// reaping: a child of the app forks 1,000 children that exit at once and
// then exits itself, handing 1,000 zombies to init: how many per second
// init reaps, from that exit to none left (as the app sees it in /proc).
func (b *bootBench) reaping() error {
	img, err := b.image("reap.img", bootcfg.Config{App: "/app/hello", Args: []string{"orphans", "1000"}, Net: "none"})
	if err != nil {
		return err
	}
	console, err := b.boot(img, "")
	m := reapRe.FindStringSubmatch(console)
	if m == nil {
		return fmt.Errorf("the orphans boot printed no figure (%v):\n%s", err, console)
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	ms, _ := strconv.ParseFloat(m[2], 64)
	report("reap.orphans_per_s", n/(ms/1000), "orphans/s")
	return nil
}
