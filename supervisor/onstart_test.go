package supervisor

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestOnStart: the hook sees every start's pid, the same the lifecycle
// event names, and a panicking hook is reported without stopping the app.
func TestOnStart(t *testing.T) {
	fast := Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond, StableAfter: time.Hour}
	app := helperApp(t, "exit", "1")
	app.Restart = RestartOnFailure
	var mu sync.Mutex
	var pids []int
	s, rec := newSup(t, app, Options{Backoff: fast, MaxRestarts: 2, OnStart: func(pid int) {
		mu.Lock()
		defer mu.Unlock()
		pids = append(pids, pid)
	}})
	wait(t, runAsync(s))
	mu.Lock()
	defer mu.Unlock()
	if len(pids) != 3 {
		t.Fatalf("OnStart saw %v, want 3 starts", pids)
	}
	for _, pid := range pids {
		if rec.count(SourceKeel, fmt.Sprintf("started pid %d:", pid)) != 1 {
			t.Errorf("pid %d not among the started events %v", pid, rec.messages(SourceKeel))
		}
	}

	app.Restart = RestartNever
	s2, err := New(app, Options{Sink: newRecorder(), Reaper: testReaper, OnStart: func(int) { panic("hook") }})
	if err != nil {
		t.Fatal(err)
	}
	if r := wait(t, runAsync(s2)); r.st.ExitCode() != 1 {
		t.Fatalf("with a panicking hook: %v %v", r.st, r.err)
	}
}
