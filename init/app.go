package main

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"

	"github.com/keelvm/keel/internal/bootcfg"
	"github.com/keelvm/keel/supervisor"
)

// runApp runs the app under the supervisor until it ends for good or a
// shutdown is asked for (SIGTERM, SIGINT, SIGPWR, the power button), and
// returns its exit status. SIGHUP, SIGUSR1 and SIGUSR2 go to the app.
func runApp(c bootcfg.Config, sigs chan os.Signal, p *platform) int {
	defer p.markStarted() // also when the app never starts
	console := newConsoleSink()
	defer console.close()
	sink := teeSink{console: console, ship: p.appLog}
	reaper := supervisor.NewReaper(func(err error) { logf("reaper: %v", err) })
	// The reaper outlives the app: orphans keep ending during shutdown.
	go func() {
		if err := reaper.Run(context.Background()); err != nil {
			logf("reaper stopped: %v", err)
		}
	}()
	restart, err := supervisor.ParseRestart(c.Restart)
	if err != nil {
		logf("%v", err)
		return 1
	}
	limits, err := rlimits(c.Rlimits)
	if err != nil {
		logf("app configuration: %v", err)
		return 1
	}
	inheritNofile(limits)
	shutdownGrace := time.Duration(c.Grace)
	sup, err := supervisor.New(supervisor.App{
		Path: c.App, Args: c.Args, Env: appEnv(c.Env), Dir: c.Dir, User: c.User, Group: c.Group,
		Restart: restart, Rlimits: limits,
	}, supervisor.Options{
		Sink: sink, Reaper: reaper, Grace: shutdownGrace, KillAll: os.Getpid() == 1,
		OnError: func(err error) { logf("supervisor: %v", err) },
		OnStart: func(pid int) {
			markKernelLog("app started (pid %d)", pid)
			p.markStarted()
		},
	})
	if err != nil {
		logf("app configuration: %v", err)
		return 1
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	type result struct {
		st  supervisor.Status
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				logf("supervisor panicked: %v", r)
				done <- result{err: errors.New("supervisor panicked")}
			}
		}()
		st, err := sup.Run(ctx)
		done <- result{st, err}
	}()
	for {
		select {
		case s := <-sigs:
			switch s {
			case syscall.SIGTERM, syscall.SIGINT, syscall.SIGPWR:
				logf("%v: stopping the app (SIGTERM, then SIGKILL after %v)", s, shutdownGrace)
				stop()
			case syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2:
				if err := sup.Forward(s.(syscall.Signal)); err != nil {
					logf("forward %v: %v", s, err)
				}
			}
		case <-p.power:
			logf("power button: stopping the app (SIGTERM, then SIGKILL after %v)", shutdownGrace)
			stop()
		case r := <-done:
			var se *supervisor.StartError
			switch {
			case errors.As(r.err, &se):
				logf("app %s: %v", c.App, r.err)
				return se.ExitCode()
			case r.err != nil:
				logf("app %s: %v", c.App, r.err)
				if r.st.Pid == 0 {
					return 1
				}
			}
			logf("app %s", r.st)
			return r.st.ExitCode()
		}
	}
}
