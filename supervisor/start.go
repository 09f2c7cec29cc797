package supervisor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/keelvm/keel/internal/piperead"
	"golang.org/x/sys/unix"
)

// Kinds of start failure, for errors.Is.
var (
	ErrNotFound      = errors.New("binary not found")
	ErrNotExecutable = errors.New("not executable")
	ErrBadUser       = errors.New("bad user")
	ErrBadDir        = errors.New("bad working directory")
	ErrBadRlimit     = errors.New("bad resource limit")
)

// StartError says why the app could not be started.
type StartError struct {
	Path   string
	Kind   error  // one of the Err* kinds above
	Detail string // what was found, in words
	Err    error  // the underlying error, if any
}

func (e *StartError) Error() string {
	msg := "supervisor: start app " + e.Path + ": " + e.Kind.Error()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap exposes both the kind and the underlying error.
func (e *StartError) Unwrap() []error { return []error{e.Kind, e.Err} }

// ExitCode follows the shell: 127 for a missing binary, 126 otherwise.
func (e *StartError) ExitCode() int {
	if e.Kind == ErrNotFound {
		return 127
	}
	return 126
}

// proc is one run of the app.
type proc struct {
	child   *Child
	started time.Time
	drained chan struct{} // closed when both pipes are read to the end
}

// defaultPath is the PATH of an app whose environment has none.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// appEnv is the app's environment: env with PATH and HOME (the user's, from
// passwd) added when missing, as login(1) gives them. An app without PATH
// cannot run helpers by name, and one without HOME writes its dotfiles
// under / or fails: setting one unrelated variable must not cost either.
func appEnv(env []string, home string) []string {
	var hasPath, hasHome bool
	for _, e := range env {
		hasPath = hasPath || strings.HasPrefix(e, "PATH=")
		hasHome = hasHome || strings.HasPrefix(e, "HOME=")
	}
	out := make([]string, 0, len(env)+2)
	if !hasPath {
		out = append(out, defaultPath)
	}
	out = append(out, env...)
	if !hasHome {
		out = append(out, "HOME="+home)
	}
	return out
}

// checkBinary finds the obvious reasons exec would fail, to name them
// plainly instead of reporting a bare errno.
func checkBinary(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return &StartError{Path: path, Kind: ErrNotFound, Detail: "no such file", Err: err}
	case err != nil:
		return &StartError{Path: path, Kind: ErrNotExecutable, Detail: err.Error(), Err: err}
	case fi.IsDir():
		return &StartError{Path: path, Kind: ErrNotExecutable, Detail: "is a directory"}
	case !fi.Mode().IsRegular():
		return &StartError{Path: path, Kind: ErrNotExecutable, Detail: fmt.Sprintf("not a regular file (mode %v)", fi.Mode())}
	case fi.Mode().Perm()&0o111 == 0:
		return &StartError{Path: path, Kind: ErrNotExecutable, Detail: fmt.Sprintf("no execute permission (mode %v)", fi.Mode())}
	}
	return nil
}

func checkDir(path, dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return &StartError{Path: path, Kind: ErrBadDir, Detail: err.Error(), Err: err}
	}
	if !fi.IsDir() {
		return &StartError{Path: path, Kind: ErrBadDir, Detail: dir + " is not a directory"}
	}
	return nil
}

// execError names the reason ForkExec failed after the checks passed.
func execError(path, dir string, err error, id identity) error {
	e := &StartError{Path: path, Kind: ErrNotExecutable, Err: err}
	switch {
	case errors.Is(err, unix.ENOENT):
		e.Detail = "exec: no such file or directory (the binary exists: is its ELF interpreter or #! interpreter missing from the image?)"
	case errors.Is(err, unix.EACCES):
		// The child changes to the working directory as the app's user
		// too: the same errno.
		e.Detail = fmt.Sprintf("exec: permission denied (the app's user may not execute the binary: its mode, or a noexec mount; or may not enter the working directory %s)", dir)
	case errors.Is(err, unix.ENOEXEC):
		e.Detail = "exec: exec format error (not a program for this machine, nor a #! script)"
	case errors.Is(err, unix.EPERM) && id.cred != nil:
		e.Kind = ErrBadUser
		e.Detail = fmt.Sprintf("switching to uid %d gid %d: %v", id.cred.Uid, id.cred.Gid, err)
	default:
		e.Detail = "exec: " + err.Error()
	}
	return e
}

// start starts one run of the app; the caller holds s.mu.
func (s *Supervisor) start() (_ *proc, err error) {
	a := &s.app
	if err := checkBinary(a.Path); err != nil {
		return nil, err
	}
	dir := a.Dir
	if dir == "" {
		dir = "/"
	}
	if err := checkDir(a.Path, dir); err != nil {
		return nil, err
	}
	id, err := resolveIdentity(a.User, a.Group)
	if err != nil {
		var se *StartError
		if errors.As(err, &se) {
			se.Path = a.Path
		}
		return nil, err
	}
	env := appEnv(a.Env, id.home)

	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("supervisor: start app %s: open %s: %w", a.Path, os.DevNull, err)
	}
	defer null.Close()
	var closers []io.Closer // pipe ends to close if the start fails
	defer func() {
		if err != nil {
			for _, c := range closers {
				c.Close()
			}
		}
	}()
	// Made by piperead, outside the runtime's poller: a flooding app's
	// every write would otherwise wake a runtime thread.
	outR, outW, err := piperead.Pipe(piperead.Size)
	if err != nil {
		return nil, fmt.Errorf("supervisor: start app %s: stdout pipe: %w", a.Path, err)
	}
	closers = append(closers, outR, outW)
	errR, errW, err := piperead.Pipe(piperead.Size)
	if err != nil {
		return nil, fmt.Errorf("supervisor: start app %s: stderr pipe: %w", a.Path, err)
	}
	closers = append(closers, errR, errW)

	attr := &syscall.ProcAttr{
		Dir: dir,
		Env: env,
		// The app's ends are blocking, as a program expects of its stdout
		// (the status flag is shared across fork).
		Files: []uintptr{null.Fd(), outW.Fd(), errW.Fd()},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Credential: id.cred},
	}
	argv := append([]string{a.Path}, a.Args...)
	child, err := s.opt.Reaper.StartProcess(a.Path, argv, attr)
	outW.Close()
	errW.Close()
	if err != nil {
		return nil, execError(a.Path, dir, err, id)
	}
	if err := applyRlimits(child.Pid, a.Rlimits); err != nil {
		// A misconfigured app must not run: kill it before it does harm.
		_ = unix.Kill(-child.Pid, unix.SIGKILL)
		_ = unix.Kill(child.Pid, unix.SIGKILL)
		return nil, &StartError{Path: a.Path, Kind: ErrBadRlimit, Detail: err.Error(), Err: err}
	}

	p := &proc{child: child, started: time.Now(), drained: make(chan struct{})}
	// Before the readers start, so that the event precedes the app's lines.
	s.event(LevelInfo, fmt.Sprintf("started pid %d: %s", child.Pid, a.Path))
	var wg sync.WaitGroup
	wg.Add(2)
	s.trackPipe(outR)
	s.trackPipe(errR)
	go s.readPipe(outR, LevelInfo, SourceStdout, &wg)
	go s.readPipe(errR, LevelError, SourceStderr, &wg)
	go func() {
		wg.Wait()
		close(p.drained)
	}()
	if s.opt.OnStart != nil {
		if err := protect("OnStart", func() { s.opt.OnStart(child.Pid) }); err != nil {
			s.report(err)
		}
	}
	return p, nil
}
