package supervisor

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// helperEnv makes the test binary act as a small app (see runHelper), so the
// tests need no go build.
const helperEnv = "KEEL_SUPERVISOR_HELPER"

// testReaper is the test process's one reaper.
var testReaper *Reaper

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode, os.Args[1:]))
	}
	// Orphans of the helper apps re-parent to this process, as they would
	// to PID 1, so the reaper sees them.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "prctl PR_SET_CHILD_SUBREAPER:", err)
		os.Exit(2)
	}
	testReaper = NewReaper(func(err error) { fmt.Fprintln(os.Stderr, "reaper:", err) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- testReaper.Run(ctx) }()
	code := m.Run()
	cancel()
	<-done
	os.Exit(code)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// runHelper is the app side of the tests.
func runHelper(mode string, args []string) int {
	switch mode {
	case "lines": // N lines on each pipe, then a partial last line on each
		n := atoi(args[0])
		for i := range n {
			fmt.Fprintf(os.Stdout, "out %d\n", i)
			fmt.Fprintf(os.Stderr, "err %d\n", i)
		}
		fmt.Fprint(os.Stdout, "out tail")
		fmt.Fprint(os.Stderr, "err tail")
		return 0
	case "exit":
		if len(args) == 0 {
			return 0
		}
		return atoi(args[0])
	case "orphans": // N double forks: the grandchildren become orphans
		n := atoi(args[0])
		for range n {
			if err := doubleFork(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return 0
	case "ignore-term":
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGTERM)
		fmt.Println("ready")
		for s := range sigs {
			fmt.Println("ignoring", s)
		}
		return 0
	case "sleep":
		fmt.Println("ready")
		time.Sleep(time.Hour)
		return 0
	case "hup":
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGHUP)
		fmt.Println("ready")
		fmt.Println("got", <-sigs)
		return 0
	case "longline": // 1 MiB without newline, a short line, an unterminated tail
		os.Stdout.Write([]byte(strings.Repeat("x", 1<<20)))
		os.Stdout.Write([]byte("\nafter\n" + strings.Repeat("y", 1000)))
		return 0
	case "flood": // N lines of 100 bytes as fast as possible
		n := atoi(args[0])
		line := []byte(strings.Repeat("f", 99) + "\n")
		buf := make([]byte, 0, 64<<10)
		for i := range n {
			buf = append(buf, line...)
			if len(buf)+len(line) > cap(buf) || i == n-1 {
				os.Stdout.Write(buf)
				buf = buf[:0]
			}
		}
		return 0
	case "id":
		wd, _ := os.Getwd()
		groups, _ := os.Getgroups()
		fmt.Printf("uid=%d gid=%d groups=%v wd=%s\n", os.Getuid(), os.Getgid(), groups, wd)
		for _, e := range os.Environ() {
			fmt.Println("env", e)
		}
		var lim unix.Rlimit
		unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
		fmt.Printf("nofile=%d/%d\n", lim.Cur, lim.Max)
		return 0
	case "escape": // a descendant that leaves the group and ignores SIGTERM
		exe, _ := os.Executable()
		pid, err := syscall.ForkExec(exe, []string{exe}, &syscall.ProcAttr{
			Env:   helperEnvFor("ignore-term"),
			Files: []uintptr{0, 1, 2},
			Sys:   &syscall.SysProcAttr{Setsid: true},
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("escaped", pid)
		time.Sleep(time.Hour)
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
	return 2
}

// doubleFork makes a child that makes a grandchild and exits at once; both
// exit with raw syscalls only (no Go runtime in a forked child), and the
// helper reaps the child, so the grandchild is an orphan.
func doubleFork() error {
	pid, errno := rawFork()
	if errno != 0 {
		return fmt.Errorf("clone: %v", errno)
	}
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err != unix.EINTR {
			return err
		}
	}
}

// rawFork forks; in the child it forks again and both children exit.
//
//go:norace
//go:nosplit
func rawFork() (int, syscall.Errno) {
	r, _, e := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	if r == 0 {
		syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
	return int(r), 0
}

// recorder is a Sink that keeps every event; Log never blocks for long.
type recorder struct {
	mu     sync.Mutex
	events []Event
	notify chan struct{}
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (r *recorder) Log(ev Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

func (r *recorder) messages(source string) []string {
	var out []string
	for _, ev := range r.all() {
		if ev.Source == source {
			out = append(out, ev.Message)
		}
	}
	return out
}

// waitFor waits until an event of source satisfies ok.
func (r *recorder) waitFor(t *testing.T, source string, ok func(string) bool) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		for _, m := range r.messages(source) {
			if ok(m) {
				return m
			}
		}
		select {
		case <-r.notify:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %s event as expected; events: %v", source, r.all())
		}
	}
}

func (r *recorder) count(source, prefix string) int {
	n := 0
	for _, m := range r.messages(source) {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// helperEnvFor is the environment of a helper app; GORACE keeps a race
// build from sleeping a second at exit.
func helperEnvFor(mode string) []string {
	return []string{helperEnv + "=" + mode, "GORACE=atexit_sleep_ms=0"}
}

// helperApp is an App that runs this test binary in a helper mode.
func helperApp(t testing.TB, mode string, args ...string) App {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return App{Path: exe, Args: args, Env: helperEnvFor(mode)}
}

func newSup(t testing.TB, app App, opt Options) (*Supervisor, *recorder) {
	t.Helper()
	rec := newRecorder()
	opt.Sink = rec
	opt.Reaper = testReaper
	opt.OnError = func(err error) { t.Errorf("OnError: %v", err) }
	s, err := New(app, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s, rec
}

// runAsync runs s.Run in a goroutine.
func runAsync(s *Supervisor) <-chan runResult {
	ch := make(chan runResult, 1)
	go func() {
		st, err := s.Run(context.Background())
		ch <- runResult{st, err}
	}()
	return ch
}

type runResult struct {
	st  Status
	err error
}

func wait(t *testing.T, ch <-chan runResult) runResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
	return runResult{}
}

// zombieChildren lists this process's children in state Z.
func zombieChildren() []int {
	var out []int
	names, _ := filepath.Glob("/proc/[0-9]*")
	for _, n := range names {
		pid := atoi(filepath.Base(n))
		if ppid, state, ok := procStat(pid); ok && ppid == os.Getpid() && state == 'Z' {
			out = append(out, pid)
		}
	}
	return out
}
