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
	var got []string
	timeout := time.After(5 * time.Second)
	for {
		select {
		case s := <-sigs:
			got = append(got, s.String())
			if s == syscall.SIGTERM {
				if len(got) != 2 {
					t.Errorf("passed on %v; want only user defined signal 1 and terminated", got)
				}
				return
			}
		case <-timeout:
			t.Fatalf("SIGTERM never passed on; got %v", got)
		}
	}
}
