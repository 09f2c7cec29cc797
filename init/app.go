package main

import (
	"errors"
	"os"
	"syscall"
	"time"

	"github.com/keelvm/keel/internal/bootcfg"
)

// runApp starts the app and waits for it, reaping every other process that
// ends meanwhile (orphans re-parent to PID 1). It returns the app's exit
// status; a shutdown signal is forwarded to the app's process group.
func runApp(c bootcfg.Config, sigs chan os.Signal, power <-chan struct{}) int {
	if fi, err := os.Stat(c.App); err != nil {
		logf("app %s: %v", c.App, err)
		return 127
	} else if fi.Mode()&0o111 == 0 || fi.IsDir() {
		logf("app %s is not an executable file (mode %v)", c.App, fi.Mode())
		return 126
	}
	env := c.Env
	if env == nil {
		env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/"}
	}
	dir := c.Dir
	if dir == "" {
		dir = "/"
	}
	pid, err := syscall.ForkExec(c.App, append([]string{c.App}, c.Args...), &syscall.ProcAttr{
		Dir: dir, Env: env, Files: []uintptr{devNull(), 1, 2},
		Sys: &syscall.SysProcAttr{Setpgid: true},
	})
	if err != nil {
		logf("start app %s: %v", c.App, err)
		return 126
	}
	logf("app %s started (pid %d)", c.App, pid)
	var killAt <-chan time.Time
	stop := func(why string) {
		if killAt != nil {
			return
		}
		logf("%s: stopping the app (SIGTERM, then SIGKILL after %v)", why, shutdownGrace)
		syscall.Kill(-pid, syscall.SIGTERM)
		killAt = time.After(shutdownGrace)
	}
	for {
		select {
		case s := <-sigs:
			switch s {
			case syscall.SIGCHLD:
				if st, done := reap(pid); done {
					return st
				}
			case syscall.SIGTERM, syscall.SIGINT, syscall.SIGPWR:
				stop(s.String())
			case syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2:
				syscall.Kill(-pid, s.(syscall.Signal))
			}
		case <-power:
			stop("power button")
		case <-killAt:
			logf("the app did not stop within %v: SIGKILL", shutdownGrace)
			syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
}

// shutdownGrace is how long the app may take to stop after SIGTERM.
const shutdownGrace = 10 * time.Second

// reap collects every ended child; it reports the app's status once the
// app itself has ended.
func reap(app int) (int, bool) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || errors.Is(err, syscall.ECHILD) {
			return 0, false
		}
		if pid != app {
			continue
		}
		switch {
		case ws.Exited():
			logf("app exited with code %d", ws.ExitStatus())
			return ws.ExitStatus(), true
		case ws.Signaled():
			logf("app killed by signal %v", ws.Signal())
			return 128 + int(ws.Signal()), true
		}
	}
}

func devNull() uintptr {
	f, err := os.Open("/dev/null")
	if err != nil {
		logf("open /dev/null: %v", err)
		return 0
	}
	return f.Fd()
}
