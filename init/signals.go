package main

import (
	"os"
	"os/signal"
	"syscall"
)

// watchSignals catches every signal, so that none has its default action
// on PID 1, and returns a channel of only those init acts on: the stop
// requests (SIGTERM, SIGINT after CAD_OFF, SIGPWR) and those forwarded to
// the app (SIGHUP, SIGUSR1, SIGUSR2). os/signal delivers a signal to every
// channel registered for it and drops it for a full one: the rest (the
// runtime's SIGURG preemption, SIGCHLD, which the reaper has its own
// channel for) fill only the catch-all channel, never the one a stop
// request made while init is busy booting must find room in.
func watchSignals() <-chan os.Signal {
	signal.Notify(make(chan os.Signal, 1))
	acted := make(chan os.Signal, 16)
	signal.Notify(acted, syscall.SIGTERM, syscall.SIGINT, syscall.SIGPWR, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	return acted
}

// isStop reports whether s asks for the machine to stop.
func isStop(s os.Signal) bool {
	return s == syscall.SIGTERM || s == syscall.SIGINT || s == syscall.SIGPWR
}
