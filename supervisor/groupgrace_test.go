package supervisor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// server is a server in the app's group that takes 0.5 s to stop on
// SIGTERM and says so in the file $MARK (its stdout may no longer be read).
const server = `(trap 'echo stopping >>"$MARK"; sleep 0.5; echo clean exit >>"$MARK"; exit 0' TERM; echo ready >>"$MARK"; while :; do sleep 0.05; done) &`

// TestGroupGrace: the grace period belongs to the app's whole process
// group, not only to its first process. A wrapper script that runs the
// server without exec (the classic entrypoint) dies at once on SIGTERM
// while the server, which got SIGTERM too, is still stopping: SIGKILL
// must wait for it. Likewise what an exited app left in its group gets
// SIGTERM and the grace before SIGKILL, at shutdown and before a restart.
func TestGroupGrace(t *testing.T) {
	cases := []struct {
		name     string
		script   string // the app's; the server above is started first
		restart  Restart
		shutdown bool   // stop it by Shutdown (else: it exits by itself)
		wantErr  string // Shutdown's (Run's final error)
	}{
		{"wrapper dies on SIGTERM", server + ` wait`, RestartNever, true, ""},
		{"app exited, server left in its group", server + ` sleep 0.2; exit 0`, RestartNever, false, ""},
		{"server left in its group before a restart", server + ` sleep 0.2; exit 1`, RestartOnFailure, false, "giving up after 1 restarts"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mark := filepath.Join(t.TempDir(), "mark")
			app := App{Path: "/bin/sh", Args: []string{"-c", c.script}, Env: []string{"MARK=" + mark, "PATH=/usr/bin:/bin"}, Restart: c.restart}
			s, _ := newSup(t, app, Options{Backoff: Backoff{Initial: time.Millisecond, Max: time.Millisecond}, MaxRestarts: 1})
			ch := runAsync(s)
			waitMark(t, mark, "ready")
			if !c.shutdown {
				if c.restart == RestartOnFailure {
					// The first run's server must have stopped cleanly
					// before the second run starts its own.
					waitMark(t, mark, "ready\nstopping\nclean exit\nready")
				}
				wait(t, ch)
			}
			t0 := time.Now()
			if _, err := s.Shutdown(context.Background(), 5*time.Second); (err == nil) != (c.wantErr == "") || err != nil && !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("Shutdown: %v, want error %q", err, c.wantErr)
			}
			if c.shutdown {
				wait(t, ch)
			}
			if d := time.Since(t0); d > 4*time.Second {
				t.Errorf("Shutdown took %v: the grace should end when the group is gone", d)
			}
			got, _ := os.ReadFile(mark)
			if !strings.HasSuffix(string(got), "stopping\nclean exit\n") {
				t.Fatalf("the server in the app's group did not stop cleanly; it wrote %q", got)
			}
		})
	}
}

// TestShutdownDuringRestartGrace: a Shutdown that arrives while the loop
// stops what the last run left in its group (before a restart) still gives
// that group its grace; the loop's wait used to end with a SIGKILL.
func TestShutdownDuringRestartGrace(t *testing.T) {
	mark := filepath.Join(t.TempDir(), "mark")
	app := App{Path: "/bin/sh", Args: []string{"-c", server + ` sleep 0.2; exit 1`}, Env: []string{"MARK=" + mark, "PATH=/usr/bin:/bin"}, Restart: RestartAlways}
	s, rec := newSup(t, app, Options{Backoff: Backoff{Initial: time.Millisecond, Max: time.Millisecond}, Grace: 5 * time.Second})
	ch := runAsync(s)
	// The app exited; its server got SIGTERM and has its grace to stop.
	waitMark(t, mark, "ready\nstopping")
	if _, err := s.Shutdown(context.Background(), 5*time.Second); err != nil {
		t.Log("Shutdown:", err)
	}
	wait(t, ch)
	got, _ := os.ReadFile(mark)
	if !strings.Contains(string(got), "clean exit") {
		t.Fatalf("the server left in the group was SIGKILLed without its grace: %q", got)
	}
	if n := rec.count(SourceKeel, "restarting in"); n > 0 {
		t.Errorf("a restart was announced while stopping")
	}
}

// TestLeftGroupGraceWithoutShutdownGrace: the init's stopRest calls
// Shutdown(ctx, 0) when the app ended on its own; what the app left in its
// group gets the app's grace, not SIGTERM and SIGKILL in the same instant.
func TestLeftGroupGraceWithoutShutdownGrace(t *testing.T) {
	mark := filepath.Join(t.TempDir(), "mark")
	app := App{Path: "/bin/sh", Args: []string{"-c", server + ` sleep 0.2; exit 0`}, Env: []string{"MARK=" + mark, "PATH=/usr/bin:/bin"}, Restart: RestartNever}
	s, _ := newSup(t, app, Options{})
	ch := runAsync(s)
	waitMark(t, mark, "ready")
	wait(t, ch)
	if _, err := s.Shutdown(context.Background(), 0); err != nil { // as the init's stopRest
		t.Fatalf("Shutdown: %v", err)
	}
	got, _ := os.ReadFile(mark)
	if !strings.Contains(string(got), "clean exit") {
		t.Fatalf("the server left in the group got no grace at all: %q", got)
	}
}

// waitMark waits until the file holds want at its start.
func waitMark(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := os.ReadFile(path)
		if strings.HasPrefix(string(got), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %q, want %q at its start", path, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
