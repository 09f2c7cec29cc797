package supervisor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestShutdownDuringRestartGrace: a Shutdown that arrives while the loop
// stops what the last run left in its group (before a restart) still gives
// that group its grace; the loop's wait used to end with a SIGKILL.
func TestShutdownDuringRestartGrace(t *testing.T) {
	const server = `(trap 'echo stopping >>"$MARK"; sleep 0.5; echo clean exit >>"$MARK"; exit 0' TERM; echo ready >>"$MARK"; while :; do sleep 0.05; done) &`
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
	for _, ev := range rec.all() {
		t.Logf("event: %s", ev.Message)
	}
	if !strings.Contains(string(got), "clean exit") {
		t.Fatalf("the server left in the group was SIGKILLed without its grace: %q", got)
	}
}

// TestLeftGroupGraceWithoutShutdownGrace: the init's stopRest calls
// Shutdown(ctx, 0) when the app ended on its own; what the app left in its
// group gets the app's grace, not SIGTERM and SIGKILL in the same instant.
func TestLeftGroupGraceWithoutShutdownGrace(t *testing.T) {
	const server = `(trap 'echo stopping >>"$MARK"; sleep 0.5; echo clean exit >>"$MARK"; exit 0' TERM; echo ready >>"$MARK"; while :; do sleep 0.05; done) &`
	mark := filepath.Join(t.TempDir(), "mark")
	app := App{Path: "/bin/sh", Args: []string{"-c", server + ` sleep 0.2; exit 0`}, Env: []string{"MARK=" + mark, "PATH=/usr/bin:/bin"}, Restart: RestartNever}
	s, rec := newSup(t, app, Options{})
	ch := runAsync(s)
	waitMark(t, mark, "ready")
	wait(t, ch)
	t0 := time.Now()
	_, err := s.Shutdown(context.Background(), 0) // as init/app.go stopRest
	t.Logf("Shutdown took %v, err %v", time.Since(t0), err)
	for _, ev := range rec.all() {
		t.Logf("event: %s", ev.Message)
	}
	time.Sleep(time.Second)
	got, _ := os.ReadFile(mark)
	if !strings.Contains(string(got), "clean exit") {
		t.Fatalf("the server left in the group got no grace at all: %q", got)
	}
}
