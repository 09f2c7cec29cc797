package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/internal/qemu"
)

// TestQEMULifecycle runs apps whose ends and settings show in the local
// server's stream, not only on the console: an exit code that powers the
// machine off, a crash loop restarted with backoff, a daemon left behind
// stopped before the power-off, and the settings of the
// kernel command line (static network, limits, environment, working dir).
func TestQEMULifecycle(t *testing.T) {
	k := requireQEMU(t)
	cases := []struct {
		name    string
		args    []string
		restart string
		cmdline string
		stream  []string // in the app's stream, in this order
		console []string
	}{
		// keel.wait=none: the app runs before the network, its lines wait for the shipper.
		{"exit 3 ends the machine", []string{"3"}, "", "keel.halt=reboot keel.wait=none",
			[]string{"hello stdout 2", "exited with code 3", "not restarting (restart policy never)"},
			[]string{"rebooting (status 3)"}}, // QEMU's -no-reboot makes it the end
		{"crash loop backs off", []string{"crash", "3"}, "on-failure", "quiet",
			[]string{"run 1: crashing", "exited with code 3", "restarting in 1s", "run 2: crashing", "restarting in 2s",
				"run 3: crashing", "restarting in 4s", "run 4: fine", "exited with code 0"},
			[]string{"powering off (status 0)"}},
		// The app's end ends the machine, and what it left running (a
		// daemon in a session of its own, on the app's stdout) is stopped
		// first, its last lines shipped.
		{"what the app leaves is stopped", []string{"daemon"}, "", "quiet",
			[]string{"parent exiting", "exited with code 0", "daemon: SIGTERM, exiting"},
			[]string{"stopping every other process: SIGTERM", "powering off (status 0)"}},
		{"static network and settings", []string{"limits"}, "",
			"quiet keel.net=static:10.0.2.15/24,10.0.2.2,10.0.2.3 keel.rlimit.nofile=4096:8192 keel.env=GREETING=hi keel.dir=/tmp keel.modules=evdev",
			// The app (Go) raises its soft limit to the hard one less one.
			[]string{"nofile 8191/8192", "env PATH=/usr/local/sbin", "env GREETING=hi", "uid 65534 gid 65534 wd /tmp"},
			[]string{"load 11 modules: ok", "network: eth0 10.0.2.15/24 (static), gateway 10.0.2.2, dns [10.0.2.3]", "powering off (status 0)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newLogServer(t)
			cfg := bootcfg.Config{App: "/app/hello", Args: tc.args, Restart: tc.restart, Logs: srv.Logs("app", "test/hello:1")}
			initrd := image(t, t.TempDir(), k, cfg, srv.Creds)
			t0 := time.Now()
			console := boot(t, k, initrd, tc.cmdline, qemu.Forward{Port: 4566, Host: srv.Addr})
			t.Logf("booted and powered off in %v", time.Since(t0).Round(time.Millisecond))
			for _, w := range tc.console {
				if !strings.Contains(console, w) {
					t.Fatalf("console lacks %q:\n%s", w, console)
				}
			}
			got := srv.Messages("app", "")
			rest := got
			for _, w := range tc.stream {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stream lacks %q (in order):\n%s\nconsole:\n%s", w, got, console)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// TestQEMUNetworkCut cuts the way to the log server (connections refused,
// the open ones closed) while the app logs, then restores it: every line
// arrives exactly once, in order.
func TestQEMUNetworkCut(t *testing.T) {
	k := requireQEMU(t)
	srv := newLogServer(t)
	proxy := newCutProxy(t, srv.Addr)
	const n = 200
	cfg := bootcfg.Config{App: "/app/hello", Args: []string{"count", fmt.Sprint(n), "40ms"}, Logs: srv.Logs("app", "test/hello:1")}
	initrd := image(t, t.TempDir(), k, cfg, srv.Creds)
	vm, ctx := startVM(t, k, initrd, "quiet", qemu.Forward{Port: 4566, Host: proxy.addr})
	// Cut once the first lines are through, for about 3 s of the app's 8.
	if !waitFor(60*time.Second, func() bool { return strings.Contains(srv.Messages("app", "stdout"), "count 10\n") }) {
		t.Fatalf("no lines arrived before the cut:\n%s", vm.Console())
	}
	proxy.cut()
	if err := vm.WaitFor(ctx, "count 80"); err != nil {
		t.Fatalf("%v\n%s", err, vm.Console())
	}
	proxy.restore(t)
	if err := vm.Wait(ctx); err != nil {
		t.Fatalf("no power-off: %v\n%s", err, vm.Console())
	}
	var want strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&want, "count %d\n", i)
	}
	if got := srv.Messages("app", "stdout"); got != want.String() {
		t.Fatalf("lines lost or repeated across the cut:\n%s\nconsole:\n%s", got, vm.Console())
	}
	// The cut was felt: the shipper reported it and its end.
	if !strings.Contains(vm.Console(), "logs: delivery to keel/test/app resumed") {
		t.Fatalf("the shipper never saw the cut:\n%s", vm.Console())
	}
}
