package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keelvm/keel/bootcfg"
	keelimage "github.com/keelvm/keel/image"
	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/internal/qemu"
	"github.com/keelvm/keel/vmtest"
)

func TestMain(m *testing.M) {
	qemu.ForwardIfAsked()
	os.Exit(m.Run())
}

// requireQEMU returns the kernel to boot; on CI a missing QEMU or kernel is
// a failure, never a skip.
func requireQEMU(t *testing.T) *kernel.Kernel { return vmtest.Kernel(t) }

func buildStatic(t *testing.T, pkg, out string) { vmtest.BuildStatic(t, pkg, out) }

// image writes an initramfs holding keel's init, the hello app and the
// modules of a virtio NIC.
func image(t *testing.T, dir string, k *kernel.Kernel, cfg bootcfg.Config, extra ...initramfs.Entry) string {
	t.Helper()
	initBin, hello := filepath.Join(dir, "init"), filepath.Join(dir, "hello")
	buildStatic(t, ".", initBin)
	buildStatic(t, "./testdata/hello", hello)
	path := filepath.Join(dir, "initrd.img")
	b := keelimage.Build{Init: initBin, Kernel: k, Modules: []string{"virtio_pci", "virtio_net", "button", "evdev"}, Config: cfg,
		Files: []initramfs.Entry{
			{Path: "/app/hello", Kind: initramfs.File, Mode: 0o755, Source: hello},
			{Path: "/app/not-executable", Kind: initramfs.File, Mode: 0o644, Data: []byte("x")},
		}}
	b.Files = append(b.Files, extra...)
	if _, err := b.Write(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// startVM boots a VM that the test then drives; it is killed when the test
// ends. The context bounds the test's waits on it.
func startVM(t *testing.T, k *kernel.Kernel, initrd, cmdline string, fwd ...qemu.Forward) (*qemu.VM, context.Context) {
	t.Helper()
	vm, err := qemu.Start(qemu.Config{Kernel: k.Vmlinuz, Initrd: initrd, Dir: t.TempDir(), Forwards: fwd,
		Cmdline: "console=ttyS0 panic=-1 " + cmdline})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(func() { cancel(); vm.Kill() })
	return vm, ctx
}

// boot runs a VM to power-off and returns its console.
func boot(t *testing.T, k *kernel.Kernel, initrd, extra string, fwd ...qemu.Forward) string {
	t.Helper()
	dir := t.TempDir()
	vm, err := qemu.Start(qemu.Config{Kernel: k.Vmlinuz, Initrd: initrd, Dir: dir, Forwards: fwd,
		Cmdline: "console=ttyS0 panic=-1 " + extra})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := vm.Wait(ctx); err != nil {
		t.Fatalf("VM did not power off: %v\nconsole:\n%s", err, vm.Console())
	}
	return vm.Console()
}

func TestQEMUBoot(t *testing.T) {
	k := requireQEMU(t)
	dir := t.TempDir()
	initrd := image(t, dir, k, bootcfg.Config{App: "/app/hello", Args: []string{"3"}})
	cases := []struct {
		name, cmdline string
		want          []string
	}{
		{"hello exits 3", "keel.net=none", []string{"Linux version", "keel init", "mount: ok", "modules: ok", `first: "Linux version`, "hello stdout 0", "hello stderr 2", "app exited with code 3", "powering off (status 3)", "reboot: Power down"}},
		{"app from the command line", "keel.net=none keel.app=/app/missing", []string{"app /app/missing:", "no such file", "powering off (status 127)"}},
		{"not executable", "keel.net=none keel.app=/app/not-executable", []string{"not executable: no execute permission", "powering off (status 126)"}},
		{"unknown key", "keel.colour=blue", []string{`unknown key "keel.colour"`, "powering off (status 1)"}},
		{"malformed value", "keel.restart=sometimes", []string{`keel.restart="sometimes"`, "use always, on-failure or never", "powering off (status 1)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			console := boot(t, k, initrd, tc.cmdline)
			for _, w := range tc.want {
				if !strings.Contains(console, w) {
					t.Fatalf("console lacks %q:\n%s", w, console)
				}
			}
			if strings.Contains(console, "Kernel panic") {
				t.Fatalf("kernel panic:\n%s", console)
			}
		})
	}
}

// TestQEMUNetwork boots with a virtio NIC: DHCP gives the address, DNS and
// routes, and the app reaches a server on the host's loopback through the
// guestfwd at 10.0.2.100 while every other address stays unreachable.
func TestQEMUNetwork(t *testing.T) {
	k := requireQEMU(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from the host")
	}))
	defer srv.Close()
	initrd := image(t, t.TempDir(), k, bootcfg.Config{App: "/app/hello", Args: []string{"net", "http://10.0.2.100:4566/", "http://10.0.2.2:4566/"}})
	console := boot(t, k, initrd, "", qemu.Forward{Port: 4566, Host: strings.TrimPrefix(srv.URL, "http://")})
	if testing.Verbose() {
		t.Log(console)
	}
	for _, w := range []string{"dhcp on eth0: ok", "network: eth0 10.0.2.15/24", "iface eth0 mtu 1500 addrs [10.0.2.15/24", "GET http://10.0.2.100:4566/: 200 hello from the host", "GET http://10.0.2.2:4566/: Get", "app exited with code 0"} {
		if !strings.Contains(console, w) {
			t.Fatalf("console lacks %q:\n%s", w, console)
		}
	}
}

// TestQEMUPowerButton presses the ACPI power button (QMP system_powerdown)
// while the app logs: the app gets SIGTERM and its last lines are out
// before the machine powers off; an app that ignores SIGTERM is killed
// after the grace period (keel.grace).
func TestQEMUPowerButton(t *testing.T) {
	k := requireQEMU(t)
	cases := []struct {
		name string
		env  []string
		want []string
	}{
		{"app stops on SIGTERM", nil, []string{"power button: stopping the app", "got SIGTERM after line", "app exited with code 0"}},
		{"app ignores SIGTERM", []string{"IGNORE_TERM=1"}, []string{"ignoring SIGTERM", "still running after the grace period of 3s: SIGKILL", "app killed by signal SIGKILL"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			initrd := image(t, dir, k, bootcfg.Config{App: "/app/hello", Args: []string{"loop"}, Env: tc.env, Net: "none"})
			vm, ctx := startVM(t, k, initrd, "quiet keel.grace=3s")
			if err := vm.WaitFor(ctx, "loop 10"); err != nil {
				t.Fatalf("%v\n%s", err, vm.Console())
			}
			if err := vm.PowerButton(); err != nil {
				t.Fatal(err)
			}
			pressed := time.Now()
			if err := vm.Wait(ctx); err != nil {
				t.Fatalf("no power-off: %v\n%s", err, vm.Console())
			}
			if d := time.Since(pressed); d > 25*time.Second {
				t.Fatalf("power-off took %v", d)
			}
			console := vm.Console()
			for _, w := range append(tc.want, "powering off") {
				if !strings.Contains(console, w) {
					t.Fatalf("console lacks %q:\n%s", w, console)
				}
			}
		})
	}
}

// TestQEMUShipsLogs runs the hello app with logs going to keel's local
// server through the guestfwd, with a write-only key: its stdout and stderr
// arrive as INFO and ERROR events in order, with instance and image, and
// the boot stream holds the kernel's first line and init's step timings.
func TestQEMUShipsLogs(t *testing.T) {
	k := requireQEMU(t)
	srv := vmtest.NewLogServer(t, "keel/test", "alice/hello")
	cfg := bootcfg.Config{App: "/app/hello", Logs: srv.Logs("alice/hello", "alice/hello:1.0")}
	initrd := image(t, t.TempDir(), k, cfg, srv.Creds)
	console := boot(t, k, initrd, "", srv.Forward())
	read := func(stream string) []map[string]any {
		evs, err := srv.TryEvents(stream)
		if err != nil {
			t.Fatalf("read %s: %v\nconsole:\n%s", stream, err, console)
		}
		return evs
	}
	app := read("alice/hello")
	var stdout, stderr []string
	for _, m := range app {
		if m["image"] != "alice/hello:1.0" || m["instance"] == "" {
			t.Fatalf("event without image/instance: %v", m)
		}
		switch m["source"] {
		case "stdout":
			if m["level"] != "INFO" {
				t.Fatalf("stdout event not INFO: %v", m)
			}
			stdout = append(stdout, m["message"].(string))
		case "stderr":
			if m["level"] != "ERROR" {
				t.Fatalf("stderr event not ERROR: %v", m)
			}
			stderr = append(stderr, m["message"].(string))
		}
	}
	if strings.Join(stdout, ",") != "hello stdout 0,hello stdout 1,hello stdout 2" || strings.Join(stderr, ",") != "hello stderr 0,hello stderr 1,hello stderr 2" {
		t.Fatalf("app events: %v\nconsole:\n%s", app, console)
	}
	bootEvents := read("alice/hello/boot")
	var kernelFirst string
	steps := 0
	for _, m := range bootEvents {
		if m["source"] == "kernel" && kernelFirst == "" {
			kernelFirst = m["message"].(string)
		}
		if m["source"] == "init" && strings.Contains(m["message"].(string), ": ok (") {
			steps++
		}
	}
	if !strings.HasPrefix(kernelFirst, "Linux version") || steps < 3 {
		t.Fatalf("boot stream: first kernel line %q, %d timed init steps (%d events)", kernelFirst, steps, len(bootEvents))
	}
}

// TestQEMUReapsOrphans: the app makes 1,000 orphans that exit at once; init,
// their new parent, reaps them all.
func TestQEMUReapsOrphans(t *testing.T) {
	k := requireQEMU(t)
	initrd := image(t, t.TempDir(), k, bootcfg.Config{App: "/app/hello", Args: []string{"orphans", "1000"}, Net: "none"})
	console := boot(t, k, initrd, "quiet")
	if !strings.Contains(console, "orphans made: 1000, zombies left: 0") {
		t.Fatalf("console:\n%s", console)
	}
}
