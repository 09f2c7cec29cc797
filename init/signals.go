package main

import (
	"os"
	"os/signal"
	"syscall"
)

// watchSignals catches every signal, so that none has its default action
// on PID 1, and passes on only those init acts on: the stop requests
// (SIGTERM, SIGINT after CAD_OFF, SIGPWR) and those forwarded to the app
// (SIGHUP, SIGUSR1, SIGUSR2). The rest (the runtime's SIGURG preemption,
// SIGCHLD, which the reaper has its own channel for) are read and
// dropped here: in one channel with them, a stop request made while init
// is busy booting would find the channel full and be lost.
func watchSignals() <-chan os.Signal {
	all := make(chan os.Signal, 64)
	signal.Notify(all)
	acted := make(chan os.Signal, 16)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				logf("signal watcher stopped: %v", r)
			}
		}()
		for s := range all {
			switch s {
			case syscall.SIGTERM, syscall.SIGINT, syscall.SIGPWR, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2:
				select {
				case acted <- s:
				default:
					logf("%v: dropped, 16 signals are already waiting", s)
				}
			}
		}
	}()
	return acted
}

// isStop reports whether s asks for the machine to stop.
func isStop(s os.Signal) bool {
	return s == syscall.SIGTERM || s == syscall.SIGINT || s == syscall.SIGPWR
}
