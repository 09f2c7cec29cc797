package logserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/keelvm/keel/internal/fsutil"
)

// DefaultAddr is where the server listens unless told otherwise: the port
// LocalStack users already point their tools at, on loopback only.
const DefaultAddr = "127.0.0.1:4566"

// State is what a running server publishes in DATA/logserver.json.
type State struct {
	PID         int       `json:"pid"`
	Addr        string    `json:"addr"`
	Endpoint    string    `json:"endpoint"`
	DataDir     string    `json:"dataDir"`
	Auth        string    `json:"auth"`
	Credentials string    `json:"credentials,omitempty"`
	Started     time.Time `json:"started"`
}

const stateFile = "logserver.json"

func writeState(dir string, s State) error {
	b, _ := json.MarshalIndent(s, "", "  ")
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, stateFile), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write server state: %w", err)
	}
	return nil
}

func removeState(dir string) { os.Remove(filepath.Join(dir, stateFile)) }

// ReadState returns the state of the server running on dir. It fails with
// os.ErrNotExist when none runs: a state file left by a killed server is
// not trusted, because the data directory lock is free.
func ReadState(dir string) (State, error) {
	var s State
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("read %s: %w", filepath.Join(dir, stateFile), err)
	}
	if !locked(dir) {
		return s, fmt.Errorf("server state %s is stale (pid %d no longer holds the data directory): %w", filepath.Join(dir, stateFile), s.PID, os.ErrNotExist)
	}
	return s, nil
}

// lockDataDir takes the exclusive lock of a data directory for the life of
// the process; the kernel releases it if the process dies, so there is no
// stale lock to clean up after kill -9.
func lockDataDir(dir string) (func(), error) {
	path := filepath.Join(dir, "lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", dir, ErrAlreadyRunning)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// locked reports whether some process holds dir's lock.
func locked(dir string) bool {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}
