package main

import (
	"os/signal"
	"syscall"
	"testing"
	"time"
)

// TestStopSignalSurvivesNoise: while init boots nobody reads its signals;
// the runtime's SIGURGs and the children's SIGCHLDs must not crowd out a
// SIGTERM sent then.
func TestStopSignalSurvivesNoise(t *testing.T) {
	sigs := watchSignals()
	t.Cleanup(func() { signal.Reset() })
	for range 200 {
		syscall.Kill(syscall.Getpid(), syscall.SIGURG)
		syscall.Kill(syscall.Getpid(), syscall.SIGCHLD)
		syscall.Kill(syscall.Getpid(), syscall.SIGWINCH)
	}
	time.Sleep(100 * time.Millisecond) // as if booting: nobody reads
	syscall.Kill(syscall.Getpid(), syscall.SIGUSR1)
	syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
	// Two kills may be handled on two threads: in either order.
	got := map[string]bool{}
	timeout := time.After(5 * time.Second)
	for len(got) < 2 {
		select {
		case s := <-sigs:
			got[s.String()] = true
		case <-timeout:
			t.Fatalf("SIGUSR1 and SIGTERM not both passed on; got %v", got)
		}
	}
	if !got["terminated"] || !got["user defined signal 1"] {
		t.Fatalf("passed on %v; want only user defined signal 1 and terminated", got)
	}
	select {
	case s := <-sigs:
		t.Fatalf("passed on %v too", s)
	case <-time.After(100 * time.Millisecond):
	}
}
