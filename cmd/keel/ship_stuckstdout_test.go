package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestShipExitsWithStdoutStuck: keel's stdout is a pipe whose reader
// never reads (a stalled `| less`, a wedged log collector). CMD prints
// 300 KB and exits 3; the server is down and -flush.timeout=1s. keel ship
// exits 3 within about 1 s + 1 s; it hung in Console.Close, for good.
func TestShipExitsWithStdoutStuck(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close() // held open, never read
	cmd := exec.Command(os.Args[0], "ship", "-group", "g", "-stream", "s", "-endpoint", "http://127.0.0.1:1", "-flush.timeout", "1s", "--",
		"sh", "-c", `head -c 300000 /dev/zero | tr '\0' a | fold -w 100; exit 3`)
	cmd.Env = append(cleanEnv(), "AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=us-east-1", "KEEL_TEST_AS_KEEL=1")
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
		if c := cmd.ProcessState.ExitCode(); c != 3 {
			t.Fatalf("exit %d, want 3", c)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("keel ship still running 10 s after CMD exited with -flush.timeout=1s: blocked closing its stdout console")
	}
}

// TestShipExitsWithBothConsolesStuck: with stdout and stderr both going to
// a reader that stopped (`keel ship ... 2>&1 | less`, paused), the two
// consoles share one bound: -flush.timeout from CMD's end. Each had the
// whole of it, one after the other.
func TestShipExitsWithBothConsolesStuck(t *testing.T) {
	endpoint, data := shipServer(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close() // never read
	cmd := exec.Command(os.Args[0], "ship", "-group", "g", "-stream", "both", "-flush.timeout", "2s", "--",
		"sh", "-c", `head -c 300000 /dev/zero | tr '\0' a | fold -w 100; head -c 300000 /dev/zero | tr '\0' b | fold -w 100 >&2; exit 3`)
	cmd.Env = append(cleanEnv(), append(shipEnv(endpoint, filepath.Join(data, "credentials")), "KEEL_TEST_AS_KEEL=1")...)
	cmd.Stdout, cmd.Stderr = w, w
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	cmd.Wait()
	if d := time.Since(start); d > 3500*time.Millisecond || cmd.ProcessState.ExitCode() != 3 {
		t.Errorf("keel ship exited %d after %v with -flush.timeout=2s, want 3 within about 2 s", cmd.ProcessState.ExitCode(), d)
	}
}
