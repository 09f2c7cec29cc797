package supervisor

import (
	"syscall"
	"testing"
	"time"
)

func TestParseRestart(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{{"always", true}, {"on-failure", true}, {"never", true}, {"sometimes", false}, {"", false}, {"Always", false}} {
		if _, err := ParseRestart(c.in); (err == nil) != c.ok {
			t.Errorf("ParseRestart(%q): %v", c.in, err)
		}
	}
}

func TestRestarts(t *testing.T) {
	ok, fail, killed := Status{}, Status{Code: 1}, Status{Signal: syscall.SIGKILL}
	for _, c := range []struct {
		p    Restart
		st   Status
		want bool
	}{
		{RestartAlways, ok, true}, {RestartAlways, fail, true},
		{RestartOnFailure, ok, false}, {RestartOnFailure, fail, true}, {RestartOnFailure, killed, true},
		{RestartNever, fail, false}, {"", killed, false},
	} {
		if got := c.p.restarts(c.st); got != c.want {
			t.Errorf("%q restarts after %v = %v", c.p, c.st, got)
		}
	}
}

func TestBackoff(t *testing.T) {
	p := newRestartPlan(Backoff{Initial: time.Second, Max: 30 * time.Second, StableAfter: time.Minute})
	short, long := time.Second, 2*time.Minute
	for i, c := range []struct {
		ran      time.Duration
		want     time.Duration
		unstable int
	}{
		{short, 1 * time.Second, 1}, {short, 2 * time.Second, 2}, {short, 4 * time.Second, 3},
		{short, 8 * time.Second, 4}, {short, 16 * time.Second, 5}, {short, 30 * time.Second, 6},
		{short, 30 * time.Second, 7},
		{long, 1 * time.Second, 0}, // a stable run resets
		{short, 2 * time.Second, 1},
	} {
		if got := p.after(c.ran); got != c.want || p.unstable != c.unstable {
			t.Errorf("run %d: delay %v unstable %d, want %v %d", i, got, p.unstable, c.want, c.unstable)
		}
	}
	if d := (Backoff{}).withDefaults(); d.Initial != time.Second || d.Max != 30*time.Second || d.StableAfter != 30*time.Second {
		t.Errorf("defaults %+v", d)
	}
}

func TestStatusString(t *testing.T) {
	for _, c := range []struct {
		st   Status
		want string
		code int
	}{
		{Status{Code: 3}, "exited with code 3", 3},
		{Status{Signal: syscall.SIGKILL}, "killed by signal SIGKILL", 137},
		{Status{Signal: syscall.SIGSEGV, CoreDumped: true}, "killed by signal SIGSEGV (core dumped)", 139},
	} {
		if got := c.st.String(); got != c.want || c.st.ExitCode() != c.code {
			t.Errorf("%+v: %q %d, want %q %d", c.st, got, c.st.ExitCode(), c.want, c.code)
		}
	}
}
