package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keelvm/keel/bootcfg"
	keelimage "github.com/keelvm/keel/image"
	"github.com/keelvm/keel/image/initramfs"
)

// TestQEMUPowerButtonBeforeTheApp presses the power button while init
// waits for the network: the app is not started and the machine powers
// off at once, not after the network's bounds. The image has the button's
// modules but no NIC driver, so that init waits for a NIC (5 s) that never
// comes: a window wide enough to press in.
func TestQEMUPowerButtonBeforeTheApp(t *testing.T) {
	k := requireQEMU(t)
	dir := t.TempDir()
	initBin, hello := filepath.Join(dir, "init"), filepath.Join(dir, "hello")
	buildStatic(t, ".", initBin)
	buildStatic(t, "./testdata/hello", hello)
	initrd := filepath.Join(dir, "initrd.img")
	b := keelimage.Build{Init: initBin, Kernel: k, Modules: []string{"button", "evdev"},
		Config: bootcfg.Config{App: "/app/hello", Args: []string{"loop"}},
		Files:  []initramfs.Entry{{Path: "/app/hello", Kind: initramfs.File, Mode: 0o755, Source: hello}}}
	if _, err := b.Write(initrd); err != nil {
		t.Fatal(err)
	}
	vm, ctx := startVM(t, k, initrd, "quiet")
	// The button is watched from just after this line on.
	if err := vm.WaitFor(ctx, "load 2 modules: ok"); err != nil {
		t.Fatalf("%v\n%s", err, vm.Console())
	}
	const refused = "power button before the app started: not starting it"
	// A press before init opened the button's event device is lost (evdev
	// has no one to give it to): press again until init says it saw one,
	// within the NIC's wait.
	var pressed time.Time
	for i := 0; i < 8 && !strings.Contains(vm.Console(), refused); i++ {
		if err := vm.PowerButton(); err != nil {
			select {
			case <-vm.Done():
				t.Fatalf("the VM ended before the press was seen:\n%s", vm.Console())
			default:
			}
			t.Fatal(err)
		}
		pressed = time.Now()
		waitFor(500*time.Millisecond, func() bool { return strings.Contains(vm.Console(), refused) })
	}
	if err := vm.Wait(ctx); err != nil {
		t.Fatalf("no power-off: %v\n%s", err, vm.Console())
	}
	console := vm.Console()
	for _, w := range []string{refused, "powering off (status 0)"} {
		if !strings.Contains(console, w) {
			t.Fatalf("console lacks %q:\n%s", w, console)
		}
	}
	for _, bad := range []string{"started pid", "loop 0", "no network interface appeared"} {
		if strings.Contains(console, bad) {
			t.Fatalf("console holds %q: the stop before the app's start was not honoured:\n%s", bad, console)
		}
	}
	// The NIC's 5 s wait is not sat out.
	if d := time.Since(pressed); d > 4*time.Second {
		t.Fatalf("power-off took %v after the press", d)
	}
}
