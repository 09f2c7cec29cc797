// Command init is keel's PID 1: the static binary the kernel runs as /init
// from the initramfs of a keel image.
//
// The boot path: mount what every app needs, read the configuration
// (/etc/keel/config.json, keel.* keys of the kernel command line over it;
// package bootcfg), then bring up the platform (modules, network,
// power button, boot log, instance identity, log shippers: platform.go)
// and run the app under the supervisor, which reaps every process; the app
// waits for the network unless keel.wait=none. When the app ends for good
// or a stop is asked for, init flushes the logs and powers off (or
// reboots). Every step is reported with its duration on the console and in
// the boot stream.
//
// PID 1 must never exit or panic (the kernel would panic): every goroutine
// recovers, and every failure becomes a logged, orderly power-off.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/keelvm/keel/bootcfg"
)

var started = time.Now()

// rebootAtEnd makes the end of the machine a reboot instead of a power-off
// (keel.halt=reboot); set once the configuration is read.
var rebootAtEnd bool

func main() {
	// First: how the end goes (power-off or exit) depends on it.
	ownsMachine = detectMachine()
	// Before anything else: Go's own handlers would otherwise let a stray
	// signal kill PID 1, which the kernel does not protect for us.
	sigs := watchSignals()
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

func run(sigs <-chan os.Signal) int {
	where := ""
	if !ownsMachine && os.Getpid() == 1 {
		where = ", in a container: its runtime's mounts, network and kernel"
	}
	logf("starting (pid %d, monotonic-us %d%s)", os.Getpid(), monotonicUS(), where)
	if ownsMachine {
		if err := step("mount", mountAll); err != nil {
			return 1
		}
		if err := checkUnpacked(); err != nil {
			logf("initramfs: %v", err)
			return 1
		}
	} else {
		// What the runtime did not mount (often /run, /tmp) is tried;
		// without CAP_SYS_ADMIN that fails, and the app runs anyway.
		for _, err := range mountMissing() {
			logf("mount: %v (going on)", err)
		}
	}
	var cfg bootcfg.Config
	if err := step("configuration", func() (err error) { cfg, err = bootcfg.LoadSystem(); return err }); err != nil {
		return 1
	}
	rebootAtEnd = cfg.Halt == "reboot"
	if ownsMachine && cfg.AppDisk != nil {
		if err := step("app disk", func() error { return mountAppDisk(cfg.AppDisk) }); err != nil {
			return 1
		}
	}
	setDefaultHostname()
	// Ctrl-Alt-Del becomes SIGINT to us instead of an immediate reboot.
	if ownsMachine {
		if err := syscall.Reboot(syscall.LINUX_REBOOT_CMD_CAD_OFF); err != nil {
			logf("disable Ctrl-Alt-Del reboot: %v", err)
		}
	}
	p := newPlatform(cfg)
	go p.bringUp()
	if cfg.Wait == "network" && !waitNetwork(p, sigs) {
		p.shutdown(time.Duration(cfg.FlushTimeout))
		return 0
	}
	if cfg.Wait == "network" {
		// The instance's user data (IMDS) is applied by now.
		if p.userDataErr != nil {
			logf("configuration: %v", p.userDataErr)
			p.shutdown(time.Duration(cfg.FlushTimeout))
			return 1
		}
		cfg = p.cfg
		rebootAtEnd = cfg.Halt == "reboot"
	}
	status := runApp(cfg, sigs, p)
	p.shutdown(time.Duration(cfg.FlushTimeout))
	return status
}

// waitNetwork waits for the network's bring-up before the app starts; it
// returns false when a stop was asked for meanwhile: the app is not
// started then. Signals meant for the app have no one to go to yet.
func waitNetwork(p *platform, sigs <-chan os.Signal) bool {
	for {
		select {
		case <-p.netDone:
			return true
		case s := <-sigs:
			if isStop(s) {
				logf("%v before the app started: not starting it", s)
				return false
			}
			logf("%v before the app started: not forwarded", s)
		case <-p.power:
			logf("power button before the app started: not starting it")
			return false
		}
	}
}

// powerOff ends the machine: sync, then power off (or reboot, by
// configuration). Outside a VM (a container, a test on a host) it exits
// with the status instead: a container's PID 1 has no machine to power
// off (reboot(2) there needs CAP_SYS_BOOT, and would lose the status),
// and its exit ends the container and everything in it.
func powerOff(status int) {
	how, cmd := "powering off", syscall.LINUX_REBOOT_CMD_POWER_OFF
	if rebootAtEnd {
		how, cmd = "rebooting", syscall.LINUX_REBOOT_CMD_RESTART
	}
	syscall.Sync()
	if !ownsMachine {
		logf("exiting (status %d)", status)
		os.Exit(status)
	}
	unmountAll()
	syscall.Sync()
	logf("%s (status %d)", how, status)
	if err := syscall.Reboot(cmd); err != nil {
		logf("%s: %v", how, err)
	}
	select {} // never return from PID 1
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
