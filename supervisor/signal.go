package supervisor

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrNotRunning is returned by Forward when no app process is running.
var ErrNotRunning = errors.New("supervisor: the app is not running")

// Forward sends sig to the app's process group (SIGHUP, SIGUSR1 and SIGUSR2
// in keel's init).
func (s *Supervisor) Forward(sig os.Signal) error {
	ssig, ok := sig.(syscall.Signal)
	if !ok {
		return fmt.Errorf("supervisor: forward %v: not a syscall.Signal", sig)
	}
	s.mu.Lock()
	p := s.cur
	s.mu.Unlock()
	if p == nil || isDone(p.child) {
		return ErrNotRunning
	}
	if err := signalApp(p.child.Pid, ssig); err != nil {
		return fmt.Errorf("supervisor: forward %s to app pid %d: %w", unix.SignalName(ssig), p.child.Pid, err)
	}
	return nil
}

// signalApp signals the app's process group, made at start with the app as
// leader. Should the app have left it (setsid), the app is signalled too,
// exactly once.
func signalApp(pid int, sig syscall.Signal) error {
	if pid <= 0 {
		// kill(0) and kill(-1) would reach this process's own group or
		// every process: never by accident.
		return fmt.Errorf("supervisor: signal %s: bad app pid %d", unix.SignalName(sig), pid)
	}
	if pg, err := unix.Getpgid(pid); err == nil && pg == pid {
		return ignoreESRCH(unix.Kill(-pid, sig))
	}
	err := ignoreESRCH(unix.Kill(pid, sig))
	_ = unix.Kill(-pid, sig) // what remains of the group, if anything
	return err
}

func ignoreESRCH(err error) error {
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	return err
}

func isDone(c *Child) bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}
