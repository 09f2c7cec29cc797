package main

import (
	"errors"
	"os"
	"syscall"

	"github.com/keelvm/keel/internal/bootcfg"
)

// runApp starts the app and waits for it, reaping every other process that
// ends meanwhile (orphans re-parent to PID 1). It returns the app's exit
// status; a shutdown signal is forwarded to the app's process group.
func runApp(c bootcfg.Config, sigs chan os.Signal) int {
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
	for s := range sigs {
		switch s {
		case syscall.SIGCHLD:
			if st, done := reap(pid); done {
				return st
			}
		case syscall.SIGTERM, syscall.SIGINT, syscall.SIGPWR:
			logf("%v: stopping the app", s)
			syscall.Kill(-pid, syscall.SIGTERM)
		}
	}
	return 1
}

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
