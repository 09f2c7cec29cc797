package supervisor

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// Status is how a process ended.
type Status struct {
	Pid        int
	Code       int            // exit code when Signal is 0
	Signal     syscall.Signal // the signal that killed it, or 0
	CoreDumped bool
}

func statusOf(pid int, ws unix.WaitStatus) Status {
	st := Status{Pid: pid}
	switch {
	case ws.Exited():
		st.Code = ws.ExitStatus()
	case ws.Signaled():
		st.Signal = ws.Signal()
		st.CoreDumped = ws.CoreDump()
	}
	return st
}

// Signaled reports whether a signal ended the process.
func (s Status) Signaled() bool { return s.Signal != 0 }

// Success reports whether the process exited with code 0.
func (s Status) Success() bool { return s.Signal == 0 && s.Code == 0 }

// ExitCode is the shell's convention: the exit code, or 128 plus the signal.
func (s Status) ExitCode() int {
	if s.Signal != 0 {
		return 128 + int(s.Signal)
	}
	return s.Code
}

// String is the lifecycle message: "exited with code 3" or "killed by signal
// SIGKILL".
func (s Status) String() string {
	if s.Signal != 0 {
		name := unix.SignalName(s.Signal)
		if name == "" {
			name = fmt.Sprintf("%d", int(s.Signal))
		}
		if s.CoreDumped {
			return "killed by signal " + name + " (core dumped)"
		}
		return "killed by signal " + name
	}
	return fmt.Sprintf("exited with code %d", s.Code)
}
