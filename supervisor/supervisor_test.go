package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestLinesInOrder(t *testing.T) {
	const n = 2000
	s, rec := newSup(t, helperApp(t, "lines", fmt.Sprint(n)), Options{})
	r := wait(t, runAsync(s))
	if r.err != nil || !r.st.Success() {
		t.Fatalf("Run: %v, %v", r.st, r.err)
	}
	for _, c := range []struct{ source, prefix, level string }{
		{SourceStdout, "out", LevelInfo},
		{SourceStderr, "err", LevelError},
	} {
		var got []string
		for _, ev := range rec.all() {
			if ev.Source == c.source {
				if ev.Level != c.level {
					t.Fatalf("%s event with level %s", c.source, ev.Level)
				}
				got = append(got, ev.Message)
			}
		}
		if len(got) != n+1 {
			t.Fatalf("%s: %d lines, want %d", c.source, len(got), n+1)
		}
		for i := range n {
			if want := fmt.Sprintf("%s %d", c.prefix, i); got[i] != want {
				t.Fatalf("%s line %d = %q, want %q", c.source, i, got[i], want)
			}
		}
		if got[n] != c.prefix+" tail" {
			t.Errorf("%s partial last line = %q", c.source, got[n])
		}
	}
	// Lifecycle: started, then the exit after the last lines.
	evs := rec.all()
	if !strings.HasPrefix(evs[0].Message, "started pid ") || evs[0].Source != SourceKeel {
		t.Errorf("first event %+v, want started", evs[0])
	}
	lastLine := -1
	exitAt := -1
	for i, ev := range evs {
		if ev.Source != SourceKeel {
			lastLine = i
		} else if ev.Message == "exited with code 0" {
			exitAt = i
		}
	}
	if exitAt < lastLine {
		t.Errorf("exit event at %d before the last line at %d", exitAt, lastLine)
	}
}

func TestExitCodeOnceNoRestart(t *testing.T) {
	app := helperApp(t, "exit", "3")
	app.Restart = RestartNever
	s, rec := newSup(t, app, Options{})
	r := wait(t, runAsync(s))
	if r.err != nil || r.st.Code != 3 || r.st.Signaled() || r.st.ExitCode() != 3 {
		t.Fatalf("Run = %+v, %v; want code 3", r.st, r.err)
	}
	if n := rec.count(SourceKeel, "exited with code 3"); n != 1 {
		t.Errorf("%d exit events, want 1", n)
	}
	if n := rec.count(SourceKeel, "restarting"); n != 0 {
		t.Errorf("restarted under policy never")
	}
	if n := rec.count(SourceKeel, "not restarting (restart policy never)"); n != 1 {
		t.Errorf("no policy event: %v", rec.messages(SourceKeel))
	}
	// Shutdown after the app ended returns the same status.
	st, err := s.Shutdown(context.Background(), time.Second)
	if err != nil || st.Code != 3 {
		t.Errorf("Shutdown = %+v, %v", st, err)
	}
}

func TestRestartPolicies(t *testing.T) {
	fast := Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond, StableAfter: time.Hour}
	for _, c := range []struct {
		policy Restart
		code   string
		starts int
	}{
		{RestartNever, "1", 1},
		{RestartOnFailure, "0", 1},
		{RestartOnFailure, "1", 3},
		{RestartAlways, "0", 3},
		{"", "1", 1},
	} {
		t.Run(fmt.Sprintf("%s/%s", c.policy, c.code), func(t *testing.T) {
			app := helperApp(t, "exit", c.code)
			app.Restart = c.policy
			s, rec := newSup(t, app, Options{Backoff: fast, MaxRestarts: 2})
			wait(t, runAsync(s))
			if n := rec.count(SourceKeel, "started pid"); n != c.starts {
				t.Errorf("%d starts, want %d: %v", n, c.starts, rec.messages(SourceKeel))
			}
		})
	}
}

func TestCrashLoopBackoff(t *testing.T) {
	app := helperApp(t, "exit", "1")
	app.Restart = RestartOnFailure
	s, rec := newSup(t, app, Options{
		Backoff:        Backoff{Initial: 20 * time.Millisecond, Max: 80 * time.Millisecond, StableAfter: time.Hour},
		CrashLoopAfter: 3,
		MaxRestarts:    5,
	})
	r := wait(t, runAsync(s))
	if r.err == nil || r.st.Code != 1 {
		t.Fatalf("Run = %+v, %v; want giving up with code 1", r.st, r.err)
	}
	var delays []string
	var starts []time.Time
	for _, ev := range rec.all() {
		if d, ok := strings.CutPrefix(ev.Message, "restarting in "); ok {
			delays = append(delays, d)
		}
		if strings.HasPrefix(ev.Message, "started pid") {
			starts = append(starts, ev.Time)
		}
	}
	want := []string{"20ms", "40ms", "80ms", "80ms", "80ms"}
	if fmt.Sprint(delays) != fmt.Sprint(want) {
		t.Errorf("delays %v, want %v", delays, want)
	}
	for i := 1; i < len(starts); i++ {
		min, _ := time.ParseDuration(want[i-1])
		if gap := starts[i].Sub(starts[i-1]); gap < min {
			t.Errorf("start %d only %v after the previous one, want >= %v", i, gap, min)
		}
	}
	if rec.count(SourceKeel, "crash loop: 3 runs") != 1 {
		t.Errorf("no crash-loop event: %v", rec.messages(SourceKeel))
	}
	if rec.count(SourceKeel, "giving up after 5 restarts") != 1 {
		t.Errorf("no giving-up event: %v", rec.messages(SourceKeel))
	}
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644)
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, []byte("\x00\x01\x02 not a program"), 0o755)
	for _, c := range []struct {
		name string
		app  App
		kind error
		code int
		text string
	}{
		{"missing", App{Path: "/nonexistent/app"}, ErrNotFound, 127, "binary not found"},
		{"not executable", App{Path: plain}, ErrNotExecutable, 126, "no execute permission"},
		{"directory", App{Path: dir}, ErrNotExecutable, 126, "is a directory"},
		{"exec format", App{Path: garbage}, ErrNotExecutable, 126, "exec format error"},
		{"bad dir", App{Path: garbage, Dir: "/nonexistent"}, ErrBadDir, 126, "no such file"},
		{"unknown user", App{Path: garbage, User: "keel-no-such-user"}, ErrBadUser, 126, "keel-no-such-user"},
		{"unknown group", App{Path: garbage, Group: "keel-no-such-group"}, ErrBadUser, 126, "keel-no-such-group"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.app.Restart = RestartAlways // a start failure is never retried
			s, rec := newSup(t, c.app, Options{})
			r := wait(t, runAsync(s))
			if !errors.Is(r.err, c.kind) || r.st.Code != c.code {
				t.Fatalf("Run = %+v, %v; want %v and code %d", r.st, r.err, c.kind, c.code)
			}
			if !strings.Contains(r.err.Error(), c.text) || !strings.Contains(r.err.Error(), c.app.Path) {
				t.Errorf("error %q does not name %q and the path", r.err, c.text)
			}
			msg := rec.waitFor(t, SourceKeel, func(m string) bool { return strings.HasPrefix(m, "giving up: ") })
			if !strings.Contains(msg, c.text) {
				t.Errorf("event %q does not say %q", msg, c.text)
			}
		})
	}
}

func TestUser(t *testing.T) {
	if os.Geteuid() != 0 {
		// Unprivileged: naming oneself works, anyone else is refused.
		app := helperApp(t, "id")
		app.User = fmt.Sprint(os.Getuid())
		app.Group = fmt.Sprint(os.Getgid())
		s, rec := newSup(t, app, Options{})
		if r := wait(t, runAsync(s)); r.err != nil {
			t.Fatal(r.err)
		}
		rec.waitFor(t, SourceStdout, func(m string) bool { return strings.HasPrefix(m, fmt.Sprintf("uid=%d ", os.Getuid())) })
		app.User = fmt.Sprint(os.Getuid() + 1)
		s, _ = newSup(t, app, Options{})
		if r := wait(t, runAsync(s)); !errors.Is(r.err, ErrBadUser) {
			t.Fatalf("switching user unprivileged: %v, want ErrBadUser", r.err)
		}
		return
	}
	// Root: the app runs as nobody, without root's groups, in its dir, with
	// exactly its environment and its limits. The binary must be reachable
	// by nobody.
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	exe, _ := os.Executable()
	bin := filepath.Join(dir, "helper")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	app := App{Path: bin, Env: append(helperEnvFor("id"), "ONLY=this"), Dir: dir, User: "65534", Group: "65534"}
	s, rec := newSup(t, app, Options{})
	if r := wait(t, runAsync(s)); r.err != nil || !r.st.Success() {
		t.Fatal(r.st, r.err)
	}
	out := strings.Join(rec.messages(SourceStdout), "\n")
	for _, want := range []string{"uid=65534 gid=65534 groups=[] wd=" + dir, "env ONLY=this", "env " + defaultPath, "env HOME="} {
		if !strings.Contains(out, want) {
			t.Errorf("app output lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "env ") != 5 { // the helper's two, ONLY, PATH and HOME
		t.Errorf("environment not clean:\n%s", out)
	}
}

// TestRlimits: limits reach the app (here of the same user: prlimit on
// another user's process needs CAP_SYS_RESOURCE, which PID 1 has).
func TestRlimits(t *testing.T) {
	app := helperApp(t, "id")
	app.Rlimits = []Rlimit{{Resource: 7 /* RLIMIT_NOFILE */, Cur: 123, Max: 456}}
	if r, err := RlimitResource("NOFILE"); err != nil || r != 7 {
		t.Fatalf("RlimitResource: %d, %v", r, err)
	}
	s, rec := newSup(t, app, Options{})
	if r := wait(t, runAsync(s)); r.err != nil || !r.st.Success() {
		t.Fatal(r.st, r.err)
	}
	// A Go app raises its own soft limit up to the hard one at startup.
	rec.waitFor(t, SourceStdout, func(m string) bool { return strings.HasPrefix(m, "nofile=") && strings.HasSuffix(m, "/456") })
}

// TestRlimitRefusedNamesIt: a limit the kernel refuses (nofile above
// fs.nr_open) keeps the app from running, and the message names the limit
// by its name, not its number.
func TestRlimitRefusedNamesIt(t *testing.T) {
	app := helperApp(t, "id")
	app.Rlimits = []Rlimit{{Resource: 7, Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}}
	s, rec := newSup(t, app, Options{})
	s.opt.OnError = nil
	r := wait(t, runAsync(s))
	var se *StartError
	if !errors.As(r.err, &se) || se.Kind != ErrBadRlimit {
		t.Fatalf("Run = %v, %v; want a StartError of kind ErrBadRlimit", r.st, r.err)
	}
	if !strings.Contains(r.err.Error(), "nofile to unlimited:unlimited") || !strings.Contains(r.err.Error(), "fs.nr_open") {
		t.Errorf("error %q does not name nofile, its value and the cause", r.err)
	}
	if out := rec.messages(SourceStdout); len(out) > 0 {
		t.Errorf("the app ran despite its refused limit: %q", out)
	}
}

func TestIgnoreSIGTERMKilledAfterGrace(t *testing.T) {
	s, rec := newSup(t, helperApp(t, "ignore-term"), Options{})
	ch := runAsync(s)
	rec.waitFor(t, SourceStdout, func(m string) bool { return m == "ready" })
	const grace = 300 * time.Millisecond
	t0 := time.Now()
	st, err := s.Shutdown(context.Background(), grace)
	took := time.Since(t0)
	if err != nil || st.Signal != syscall.SIGKILL {
		t.Fatalf("Shutdown = %v, %v; want killed by SIGKILL", st, err)
	}
	if took < grace || took > grace+5*time.Second {
		t.Errorf("Shutdown took %v with grace %v", took, grace)
	}
	if r := wait(t, ch); r.st.Signal != syscall.SIGKILL {
		t.Errorf("Run = %v", r.st)
	}
	rec.waitFor(t, SourceStdout, func(m string) bool { return m == "ignoring terminated" })
	if rec.count(SourceKeel, "killed by signal SIGKILL") != 1 || rec.count(SourceKeel, "still running after the grace period") != 1 {
		t.Errorf("events: %v", rec.messages(SourceKeel))
	}
	if rec.count(SourceKeel, "restarting") != 0 {
		t.Error("restarted after Shutdown")
	}
}

func TestShutdownTerm(t *testing.T) {
	app := helperApp(t, "sleep")
	app.Restart = RestartAlways
	s, rec := newSup(t, app, Options{})
	ch := runAsync(s)
	rec.waitFor(t, SourceStdout, func(m string) bool { return m == "ready" })
	st, err := s.Shutdown(context.Background(), 10*time.Second)
	if err != nil || st.Signal != syscall.SIGTERM {
		t.Fatalf("Shutdown = %v, %v", st, err)
	}
	wait(t, ch)
	if rec.count(SourceKeel, "started pid") != 1 {
		t.Error("restarted after Shutdown")
	}
}

func TestRunContextCancel(t *testing.T) {
	s, rec := newSup(t, helperApp(t, "sleep"), Options{Grace: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan runResult, 1)
	go func() {
		st, err := s.Run(ctx)
		ch <- runResult{st, err}
	}()
	rec.waitFor(t, SourceStdout, func(m string) bool { return m == "ready" })
	cancel()
	if r := wait(t, ch); r.st.Signal != syscall.SIGTERM {
		t.Fatalf("Run = %v, %v", r.st, r.err)
	}
}

func TestForwardSIGHUP(t *testing.T) {
	s, rec := newSup(t, helperApp(t, "hup"), Options{})
	if err := s.Forward(syscall.SIGHUP); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Forward before Run: %v", err)
	}
	ch := runAsync(s)
	rec.waitFor(t, SourceStdout, func(m string) bool { return m == "ready" })
	if err := s.Forward(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if r := wait(t, ch); !r.st.Success() {
		t.Fatalf("Run = %v, %v", r.st, r.err)
	}
	rec.waitFor(t, SourceStdout, func(m string) bool { return m == "got hangup" })
}

func TestLongLineInPieces(t *testing.T) {
	const max = 64 << 10
	s, rec := newSup(t, helperApp(t, "longline"), Options{MaxLine: max})
	wait(t, runAsync(s))
	out := rec.messages(SourceStdout)
	total := 0
	i := 0
	for ; i < len(out) && strings.Trim(out[i], "x") == ""; i++ {
		if len(out[i]) > max || len(out[i]) == 0 {
			t.Fatalf("piece %d has %d bytes", i, len(out[i]))
		}
		total += len(out[i])
	}
	if total != 1<<20 || i != (1<<20)/max {
		t.Errorf("%d bytes of x in %d pieces, want %d in %d", total, i, 1<<20, (1<<20)/max)
	}
	rest := out[i:]
	if len(rest) != 2 || rest[0] != "after" || rest[1] != strings.Repeat("y", 1000) {
		t.Errorf("after the long line: %d events %.40q", len(rest), rest)
	}
}

// TestNeverBlocksApp: the app writes 20 MB as fast as it can; a counting
// sink (non-blocking, as the contract says) gets every line and the app is
// never held up by the supervisor.
func TestNeverBlocksApp(t *testing.T) {
	const n = 200_000
	var count, bytes int
	sink := SinkFunc(func(ev Event) {
		if ev.Source == SourceStdout {
			count++
			bytes += len(ev.Message)
		}
	})
	exe, _ := os.Executable()
	s, err := New(App{Path: exe, Args: []string{fmt.Sprint(n)}, Env: helperEnvFor("flood")},
		Options{Sink: sink, Reaper: testReaper})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	st, err := s.Run(context.Background())
	took := time.Since(t0)
	if err != nil || !st.Success() {
		t.Fatal(st, err)
	}
	if count != n || bytes != n*99 {
		t.Fatalf("%d lines, %d bytes; want %d, %d", count, bytes, n, n*99)
	}
	t.Logf("%d lines in %v: %.0f lines/s", n, took, n/took.Seconds())
}

func TestKillAllEscapedDescendants(t *testing.T) {
	s, rec := newSup(t, helperApp(t, "escape"), Options{KillAll: true, KillAllGrace: 200 * time.Millisecond})
	ch := runAsync(s)
	msg := rec.waitFor(t, SourceStdout, func(m string) bool { return strings.HasPrefix(m, "escaped ") })
	escaped := atoi(strings.TrimPrefix(msg, "escaped "))
	rec.waitFor(t, SourceStdout, func(m string) bool { return m == "ready" }) // the escapee's
	st, err := s.Shutdown(context.Background(), time.Second)
	if err != nil || st.Signal != syscall.SIGTERM {
		t.Fatalf("Shutdown = %v, %v", st, err)
	}
	wait(t, ch)
	if err := syscall.Kill(escaped, 0); err != syscall.ESRCH {
		t.Errorf("escaped pid %d still exists: %v", escaped, err)
	}
	if len(descendants(os.Getpid(), true)) != 0 {
		t.Errorf("descendants left: %v", descendants(os.Getpid(), true))
	}
	if rec.count(SourceKeel, "SIGKILL to 1 processes") != 1 {
		t.Errorf("events: %v", rec.messages(SourceKeel))
	}
}

func TestNewRejects(t *testing.T) {
	ok := Options{Sink: SinkFunc(func(Event) {}), Reaper: testReaper}
	for _, c := range []struct {
		name string
		app  App
		opt  Options
	}{
		{"no sink", App{Path: "/bin/app"}, Options{Reaper: testReaper}},
		{"no reaper", App{Path: "/bin/app"}, Options{Sink: ok.Sink}},
		{"relative", App{Path: "bin/app"}, ok},
		{"policy", App{Path: "/bin/app", Restart: "sometimes"}, ok},
		{"rlimit order", App{Path: "/bin/app", Rlimits: []Rlimit{{Resource: 7, Cur: 2, Max: 1}}}, ok},
		{"rlimit resource", App{Path: "/bin/app", Rlimits: []Rlimit{{Resource: 99}}}, ok},
	} {
		if _, err := New(c.app, c.opt); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

// TestDrainBoundedWhenWritersLinger: a descendant that escaped and keeps
// the app's stdout open cannot hold Shutdown beyond DrainTimeout.
func TestDrainBoundedWhenWritersLinger(t *testing.T) {
	s, rec := newSup(t, helperApp(t, "escape"), Options{DrainTimeout: 100 * time.Millisecond})
	ch := runAsync(s)
	msg := rec.waitFor(t, SourceStdout, func(m string) bool { return strings.HasPrefix(m, "escaped ") })
	escaped := atoi(strings.TrimPrefix(msg, "escaped "))
	defer func() {
		syscall.Kill(escaped, syscall.SIGKILL)
		for deadline := time.Now().Add(10 * time.Second); syscall.Kill(escaped, 0) == nil && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
	}()
	rec.waitFor(t, SourceStdout, func(m string) bool { return m == "ready" })
	t0 := time.Now()
	st, err := s.Shutdown(context.Background(), time.Second)
	if err != nil || st.Signal != syscall.SIGTERM {
		t.Fatalf("Shutdown = %v, %v", st, err)
	}
	if took := time.Since(t0); took > 3*time.Second {
		t.Errorf("Shutdown took %v with a lingering writer", took)
	}
	wait(t, ch)
	if syscall.Kill(escaped, 0) != nil {
		t.Errorf("the escaped process is gone without KillAll")
	}
}
