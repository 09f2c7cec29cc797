package logserver

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// ExitAlreadyRunning is the exit status of a server process that found its
// data directory locked by another; StartDaemon reads it as "use that one".
const ExitAlreadyRunning = 3

// DaemonConfig configures StartDaemon.
type DaemonConfig struct {
	// Command runs the server in the foreground (for example
	// ["keel", "logserver", "-data", DIR, "-addr", ADDR]).
	Command []string
	DataDir string
	// Timeout bounds the wait for readiness (default 15 s).
	Timeout time.Duration
}

// StartDaemon makes sure a server runs in the background on cfg.DataDir and
// returns its state. It is idempotent and race-free: if a healthy server
// already holds the directory it is reused (started is false); if several
// callers start at once, the data directory lock lets exactly one server
// win and every caller returns that one.
func StartDaemon(cfg DaemonConfig) (state State, started bool, err error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	if len(cfg.Command) == 0 {
		return State{}, false, errors.New("start log server: no command given")
	}
	if s, err := ReadState(cfg.DataDir); err == nil && healthy(s) {
		return s, false, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return State{}, false, fmt.Errorf("create data directory %s: %w", cfg.DataDir, err)
	}
	logPath := filepath.Join(cfg.DataDir, "logserver.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return State{}, false, fmt.Errorf("open server log %s: %w", logPath, err)
	}
	defer logf.Close()
	cmd := exec.Command(cfg.Command[0], cfg.Command[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own session: the server outlives the terminal and the command
	// that started it, and no Ctrl-C meant for them reaches it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return State{}, false, fmt.Errorf("start log server %s: %w", cfg.Command[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	deadline := time.Now().Add(cfg.Timeout)
	lost := false // our process has exited after losing the race to another server
	for time.Now().Before(deadline) {
		if s, err := ReadState(cfg.DataDir); err == nil && healthy(s) {
			if s.PID != cmd.Process.Pid && !lost {
				// Another server won. Ours cannot hold the lock, but
				// if it is merely slow to start it could take the
				// directory over once the winner stops: end it now.
				_ = cmd.Process.Kill()
				<-exited
			}
			return s, s.PID == cmd.Process.Pid, nil
		}
		select {
		case err := <-exited:
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.ExitCode() == ExitAlreadyRunning {
				lost = true
				continue
			}
			return State{}, false, fmt.Errorf("log server exited before it was ready (%v); its log %s ends with:\n%s", err, logPath, tail(logPath, 2048))
		case <-time.After(20 * time.Millisecond):
		}
	}
	if !lost {
		_ = cmd.Process.Kill()
	}
	return State{}, false, fmt.Errorf("log server on %s not ready after %v; see %s", cfg.DataDir, cfg.Timeout, logPath)
}

// Stop asks the server on dataDir to shut down and waits until it has
// released the data directory.
func Stop(dataDir string, timeout time.Duration) (State, error) {
	s, err := ReadState(dataDir)
	if err != nil {
		return State{}, fmt.Errorf("no log server is running on %s: %w", dataDir, err)
	}
	p, err := os.FindProcess(s.PID)
	if err == nil {
		err = p.Signal(syscall.SIGTERM)
	}
	if err != nil {
		return s, fmt.Errorf("signal log server pid %d: %w", s.PID, err)
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if !locked(dataDir) {
			return s, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s, fmt.Errorf("log server pid %d did not stop within %v", s.PID, timeout)
}

func healthy(s State) bool {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(s.Endpoint + "/health")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func tail(path string, n int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	if int64(len(b)) > n {
		b = b[int64(len(b))-n:]
	}
	return string(bytes.TrimSpace(b))
}
