package supervisor

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestStuckAppDoesNotHoldRun: an app that outlives SIGKILL (in the kernel,
// D state; here a child whose reaper never runs, so that its end is never
// seen) must not keep Run, or Shutdown, from returning: PID 1 has to power
// off anyway.
func TestStuckAppDoesNotHoldRun(t *testing.T) {
	old := reapBound
	reapBound = 200 * time.Millisecond
	defer func() { reapBound = old }()

	for _, how := range []string{"run's ctx", "Shutdown"} {
		t.Run(how, func(t *testing.T) {
			never := NewReaper(nil) // never run: the app's end is never seen
			rec := newRecorder()
			s, err := New(helperApp(t, "sleep"), Options{Sink: rec, Reaper: never,
				Grace: 100 * time.Millisecond, KillAllGrace: 100 * time.Millisecond, DrainTimeout: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ch := make(chan runResult, 1)
			go func() { st, err := s.Run(ctx); ch <- runResult{st, err} }()
			rec.waitFor(t, SourceStdout, func(m string) bool { return m == "ready" })
			t0 := time.Now()
			if how == "Shutdown" {
				sctx, scancel := context.WithTimeout(context.Background(), time.Second)
				defer scancel()
				if _, err := s.Shutdown(sctx, 100*time.Millisecond); err == nil {
					t.Error("Shutdown reported no error for an app that never ended")
				}
			} else {
				cancel()
			}
			var r runResult
			select {
			case r = <-ch:
			case <-time.After(10 * time.Second):
				t.Fatalf("Run still blocked 10 s after the stop; events %v", rec.messages(SourceKeel))
			}
			if r.err == nil || !strings.Contains(r.err.Error(), "did not end after SIGKILL") {
				t.Errorf("Run = %v, %v; want the app's failure to end named", r.st, r.err)
			}
			if el := time.Since(t0); el > 5*time.Second {
				t.Errorf("Run returned %v after the stop; its bound is about 2.5 s here", el)
			}
		})
	}
}
