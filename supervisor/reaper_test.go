package supervisor

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestOrphansReaped(t *testing.T) {
	const n = 1000
	before := testReaper.Stats()
	s, _ := newSup(t, helperApp(t, "orphans", fmt.Sprint(n)), Options{})
	r := wait(t, runAsync(s))
	if r.err != nil || !r.st.Success() {
		t.Fatal(r.st, r.err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := testReaper.Stats().Orphans - before.Orphans
		z := zombieChildren()
		if got >= n && len(z) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d orphans reaped, want %d; zombies left: %v", got, n, z)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStatusExactlyOnce starts many short processes at once: each status
// goes to its starter (none is mistaken for an orphan, even when the
// process ends before StartProcess returns).
func TestStatusExactlyOnce(t *testing.T) {
	exe, _ := os.Executable()
	before := testReaper.Stats()
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := testReaper.StartProcess(exe, []string{exe}, &syscall.ProcAttr{
				Env: append(helperEnvFor("exit"), "X="+fmt.Sprint(i)), Files: []uintptr{0, 1, 2}})
			if err != nil {
				t.Error(err)
				return
			}
			select {
			case <-c.Done():
			case <-time.After(20 * time.Second):
				t.Errorf("pid %d: no status", c.Pid)
				return
			}
			// helper "exit" with no argument exits 0
			if st := c.Status(); !st.Success() || st.Pid != c.Pid {
				t.Errorf("pid %d: %+v", c.Pid, st)
			}
		})
	}
	wg.Wait()
	after := testReaper.Stats()
	if after.Orphans != before.Orphans {
		t.Errorf("%d registered processes taken for orphans", after.Orphans-before.Orphans)
	}
	if after.Reaped-before.Reaped < n {
		t.Errorf("reaped %d, want >= %d", after.Reaped-before.Reaped, n)
	}
}

func TestOneReaper(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := NewReaper(nil).Run(ctx); err == nil {
		t.Fatal("a second reaper ran")
	}
}

// BenchmarkReapOrphans measures reaping under a fork storm: an app makes
// b.N orphans by double forks as fast as it can; the figure is orphans
// reaped per second (reap.orphans_per_s), from the app's start to the last
// orphan reaped.
func BenchmarkReapOrphans(b *testing.B) {
	exe, _ := os.Executable()
	before := testReaper.Stats().Orphans
	b.ResetTimer()
	t0 := time.Now()
	c, err := testReaper.StartProcess(exe, []string{exe, fmt.Sprint(b.N)}, &syscall.ProcAttr{
		Env: helperEnvFor("orphans"), Files: []uintptr{0, 1, 2}})
	if err != nil {
		b.Fatal(err)
	}
	<-c.Done()
	for testReaper.Stats().Orphans-before < uint64(b.N) {
		time.Sleep(100 * time.Microsecond)
	}
	took := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/took.Seconds(), "orphans/s")
}
