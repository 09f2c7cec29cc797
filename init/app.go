package main

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/supervisor"
)

// runApp runs the app under the supervisor until it ends for good or a
// shutdown is asked for (SIGTERM, SIGINT, SIGPWR, the power button), and
// returns its exit status. SIGHUP, SIGUSR1 and SIGUSR2 go to the app.
func runApp(c bootcfg.Config, sigs <-chan os.Signal, p *platform) int {
	defer p.markStarted() // also when the app never starts
	console := newConsoleSink()
	defer console.close()
	sink := teeSink{console: console, ship: p.appLog}
	reaper := supervisor.NewReaper(func(err error) { logf("reaper: %v", err) })
	// The reaper outlives the app: orphans keep ending during shutdown.
	go func() {
		// Without a reaper the app's end is never seen: the machine
		// stops, in order (the stop path is bounded by a watchdog).
		defer func() {
			r := recover()
			logf("reaper stopped (%v): stopping the machine", r)
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
		}()
		if err := reaper.Run(context.Background()); err != nil {
			logf("reaper: %v", err)
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
	inheritNofile(limits, ownsMachine)
	shutdownGrace := time.Duration(c.Grace)
	sup, err := supervisor.New(supervisor.App{
		Path: c.App, Args: c.Args, Env: c.Env, Dir: c.Dir, User: c.User, Group: c.Group,
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
	// The supervisor's shutdown is bounded; a watchdog of the same bound
	// (and a margin) sees that nothing in it keeps the machine from
	// powering off.
	bound := sup.ShutdownBound() + 5*time.Second
	var watchdog <-chan time.Time
	stopping := func(why string) {
		logf("%s: stopping the app (SIGTERM, then SIGKILL after %v)", why, shutdownGrace)
		stop()
		if watchdog == nil {
			watchdog = time.After(bound)
		}
	}
	for {
		select {
		case s := <-sigs:
			if isStop(s) {
				stopping(s.String())
				continue
			}
			if err := sup.Forward(s.(syscall.Signal)); err != nil {
				logf("forward %v: %v", s, err)
			}
		case <-p.power:
			stopping("power button")
		case <-watchdog:
			logf("the app's shutdown did not end within %v: going on with the power-off", bound)
			return 1
		case r := <-done:
			stopRest(sup, r.err, bound)
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

// stopRest stops what the app left running when it ended on its own (its
// process group, daemons it started): the machine is going down, and they
// must not write on after the last sync. After a stop request the
// supervisor has done it already, and this returns at once. runErr, the
// error Run returned, is already reported.
func stopRest(sup *supervisor.Supervisor, runErr error, bound time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	_, err := sup.Shutdown(ctx, 0)
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	for _, e := range errs {
		if e != runErr {
			logf("stopping what the app left: %v", e)
		}
	}
}
