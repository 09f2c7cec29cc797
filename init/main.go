// Command init is keel's PID 1: the static binary the kernel runs as /init
// from the initramfs of a keel image.
//
// This is the boot path as it stands: it mounts the filesystems every app
// needs, reports each step with its duration on the console, runs the
// configured app with its output on the console, reaps every process, and
// powers the machine off when the app ends. Networking, module loading, the
// supervisor's restart policy and log shipping join it as they land (see the
// issues); the shape (config, steps, one reaper, orderly power-off) stays.
//
// PID 1 must never exit or panic (the kernel would panic): every failure
// becomes a logged, orderly power-off.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/keelvm/keel/internal/bootcfg"
)

var started = time.Now()

// flushTimeout bounds the delivery of the last events at shutdown.
const flushTimeout = 10 * time.Second

func main() {
	// Before anything else: Go's own handlers would otherwise let a stray
	// signal kill PID 1, which the kernel does not protect for us.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs)
	status := 1
	defer func() {
		if r := recover(); r != nil {
			logf("panic: %v\n%s", r, debug.Stack())
		}
		powerOff(status)
	}()
	status = run(sigs)
}

// logf writes one line to the console with the time since init started.
func logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(os.Stderr, "keel init [%8.3fs] %s\n", time.Since(started).Seconds(), msg)
	initLog.add(fmt.Sprintf("[%8.3fs] %s", time.Since(started).Seconds(), msg))
}

// step runs one boot step and reports its duration.
func step(name string, f func() error) error {
	t0 := time.Now()
	err := f()
	if err != nil {
		logf("%s: FAILED after %v: %v", name, time.Since(t0).Round(time.Microsecond), err)
		return err
	}
	logf("%s: ok (%v)", name, time.Since(t0).Round(time.Microsecond))
	return nil
}

func run(sigs chan os.Signal) int {
	logf("starting (pid %d, monotonic-us %d)", os.Getpid(), monotonicUS())
	if err := step("mount", mountAll); err != nil {
		return 1
	}
	if v, err := os.ReadFile("/proc/version"); err == nil {
		logf("kernel: %s", trim(v))
	}
	boot := collectBootLog()
	cfg, err := bootcfg.LoadSystem()
	if err != nil {
		logf("configuration: %v", err)
		return 1
	}
	if len(cfg.Modules) > 0 {
		// A missing driver shows up as a network failure next; the
		// step's message says which module failed.
		_ = step(fmt.Sprintf("load %d modules", len(cfg.Modules)), func() error { return loadModules(cfg.Modules) })
	}
	if err := step("network ("+cfg.Net+")", func() error { return network(cfg.Net) }); err != nil {
		logf("continuing without network")
	}
	boot.summary()
	// Ctrl-Alt-Del becomes SIGINT to us instead of an immediate reboot.
	if err := syscall.Reboot(syscall.LINUX_REBOOT_CMD_CAD_OFF); err != nil && os.Getpid() == 1 {
		logf("disable Ctrl-Alt-Del reboot: %v", err)
	}
	power := make(chan struct{}, 1)
	if n := watchPowerButton(power); n == 0 {
		logf("no ACPI power button found (modules button and evdev?): stop requests from the hypervisor will not be seen")
	}
	var ships *shippers
	if cfg.Logs != nil {
		host, _ := os.Hostname()
		if ships, err = startShippers(cfg.Logs, host); err != nil {
			logf("logs: %v; the app's output goes to the console only", err)
			ships = nil
		} else {
			logf("logs: shipping to group %s, streams %s and %s/boot", cfg.Logs.Group, cfg.Logs.Stream, cfg.Logs.Stream)
			initLog.attach(ships.boot)
			boot.attach(ships.boot)
		}
	}
	status := runApp(cfg, sigs, power, ships)
	if ships != nil {
		logf("flushing logs")
		ships.close(flushTimeout)
	}
	return status
}

func trim(b []byte) string {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return string(b)
}

// powerOff ends the machine: sync, then power off. Outside a VM (a test on
// a host, a container) it exits instead.
func powerOff(status int) {
	logf("powering off (status %d)", status)
	syscall.Sync()
	if os.Getpid() == 1 {
		if err := syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
			logf("power off: %v", err)
		}
		select {} // never return from PID 1
	}
	os.Exit(status)
}

// monotonicUS is CLOCK_MONOTONIC in microseconds: the clock of the kernel's
// log stamps, so init's steps line up with the kernel's.
func monotonicUS() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return -1
	}
	return ts.Nano() / 1000
}
