package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/keelvm/keel/internal/testutil"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: the master, and the terminal a
// program gets as its controlling one.
func openPTY(t *testing.T) (master, term *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		testutil.Unavailable(t, "no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestShipCtrlCDuringFlush: at a terminal, once CMD has ended, a Ctrl-C is
// a person asking keel to stop delivering now (a docker stop's SIGTERM is
// answered first, see TestShipSignalDuringFlush); the status stays CMD's.
func TestShipCtrlCDuringFlush(t *testing.T) {
	master, term := openPTY(t)
	cmd, done, errb := startFlushing(t, "echo one; exit 3", func(cmd *exec.Cmd) {
		cmd.Stdin = term
		// A session of its own with the terminal as its controlling
		// one: keel is the terminal's foreground group, as in a shell.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	})
	master.Write([]byte{3}) // ^C: SIGINT to the foreground group
	endsWith3(t, cmd, done, errb, "a Ctrl-C at the terminal did not end the flush")
	if !strings.Contains(errb.String(), "stopped delivering, as a signal asked") {
		t.Errorf("stderr: %s", errb.String())
	}
}
