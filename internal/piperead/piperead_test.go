package piperead

import (
	"bytes"
	"crypto/sha256"
	"os/exec"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// collect runs r and returns what it read.
func collect(t *testing.T, r *Reader) <-chan []byte {
	t.Helper()
	out := make(chan []byte, 1)
	go func() {
		var got []byte
		if err := r.Run(func(b []byte) { got = append(got, b...) }); err != nil {
			t.Errorf("Run: %v", err)
		}
		out <- got
	}()
	return out
}

func TestPipeDeliversEverything(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int // pipe capacity asked for; 0: the kernel's default
		writes int
		chunk  int
	}{
		{"default pipe, small writes", 0, 2000, 100},
		{"big pipe, small writes", 1 << 20, 20000, 100},
		{"big pipe, writes bigger than a read", 1 << 20, 20, 3 * Chunk / 2},
		{"nothing written", 1 << 20, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, w, err := Pipe(tc.size)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			out := collect(t, r)
			want := sha256.New()
			for i := range tc.writes {
				b := bytes.Repeat([]byte{byte('a' + i%26)}, tc.chunk)
				want.Write(b)
				if _, err := w.Write(b); err != nil {
					t.Fatal(err)
				}
			}
			w.Close()
			select {
			case got := <-out:
				if len(got) != tc.writes*tc.chunk || !bytes.Equal(sha(got), want.Sum(nil)) {
					t.Fatalf("read %d bytes, not the %d written", len(got), tc.writes*tc.chunk)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not end at the end of the pipe")
			}
		})
	}
}

func sha(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// writtenBy returns the Reader of a 1 MiB pipe that a shell script writes
// into; the script is killed and the pipe closed when the test ends.
func writtenBy(t *testing.T, script string) *Reader {
	t.Helper()
	r, w, err := Pipe(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", script)
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		r.Close()
	})
	return r
}

// A child that keeps the pipe open (a daemonised grandchild) must not keep
// the reader forever: Stop takes what is there and ends it.
func TestStopWhileWriterHoldsThePipe(t *testing.T) {
	r := writtenBy(t, "echo last words; exec sleep 30")
	out := collect(t, r)
	time.Sleep(300 * time.Millisecond)
	r.Stop()
	select {
	case got := <-out:
		if string(got) != "last words\n" {
			t.Fatalf("read %q", got)
		}
	case <-time.After(2 * pollEvery * 5):
		t.Fatal("Run did not end after Stop")
	}
}

// The pipe's read end must stay out of the Go runtime's epoll: that is the
// point of making it here rather than with os.Pipe.
func TestPipeNotInRuntimePoller(t *testing.T) {
	r, w, err := Pipe(0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	rc, err := r.f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	rc.Control(func(fd uintptr) { flags, err = unix.FcntlInt(fd, unix.F_GETFL, 0) })
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.O_NONBLOCK != 0 {
		t.Fatal("read end is non-blocking before Run: os.NewFile would have put it in the runtime poller")
	}
	// SetReadDeadline works only on files in the poller.
	if err := r.f.SetReadDeadline(time.Now()); err == nil {
		t.Fatal("read end is in the runtime poller")
	}
}

// Concurrent writers and a reader that naps: nothing lost.
func TestConcurrentWriters(t *testing.T) {
	r, w, err := Pipe(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := collect(t, r)
	var wg sync.WaitGroup
	line := bytes.Repeat([]byte("x"), 99)
	line = append(line, '\n')
	var worst time.Duration
	var mu sync.Mutex
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5000 {
				t0 := time.Now()
				w.Write(line)
				d := time.Since(t0)
				mu.Lock()
				worst = max(worst, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	w.Close()
	got := <-out
	if len(got) != 4*5000*len(line) {
		t.Fatalf("read %d bytes, want %d", len(got), 4*5000*len(line))
	}
	t.Logf("longest write: %v", worst)
}

// Stop ends the reading even while a writer keeps the pipe full.
func TestStopWhileWriterFloods(t *testing.T) {
	r := writtenBy(t, "exec yes flood")
	done := make(chan error, 1)
	go func() { done <- r.Run(func([]byte) { time.Sleep(time.Millisecond) }) }()
	time.Sleep(200 * time.Millisecond)
	r.Stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not end after Stop while the writer kept writing")
	}
}
