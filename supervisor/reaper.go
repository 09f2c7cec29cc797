package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// reapPoll is the safety net under SIGCHLD: signals of the same kind
// coalesce, and a reap every so often costs one wait4 call.
const reapPoll = time.Second

// reaperRunning makes "one reaper per process" a checked rule: two loops
// calling wait4(-1) would steal each other's statuses.
var reaperRunning atomic.Bool

// Reaper is the process's only caller of wait4. It reaps every child that
// ends, hands the status of each process started through StartProcess to
// its Child exactly once, and counts the rest (orphans re-parented to this
// process) as it reaps them.
type Reaper struct {
	onError func(error)

	// mu guards children and is held across fork and registration, so a
	// process that ends before StartProcess returns is never taken for an
	// orphan: dispatch waits for the registration.
	mu       sync.Mutex
	children map[int]*Child

	// reapMu keeps one wait4 loop at a time (Run and WaitNoChildren both
	// reap), so "no children" is observed consistently.
	reapMu sync.Mutex

	kick    chan struct{}
	reaped  atomic.Uint64
	orphans atomic.Uint64
}

// Child is a process started through a Reaper.
type Child struct {
	Pid    int
	done   chan struct{}
	status Status
}

// Done is closed once the process has been reaped.
func (c *Child) Done() <-chan struct{} { return c.done }

// Status is how the process ended; valid once Done is closed.
func (c *Child) Status() Status {
	<-c.done
	return c.status
}

// ReapStats counts what the reaper has reaped since it was made.
type ReapStats struct {
	Reaped  uint64 // every process reaped
	Orphans uint64 // of which not started through StartProcess
}

// NewReaper makes a reaper; onError (optional, must not block) receives
// errors and recovered panics of the reaping loop.
func NewReaper(onError func(error)) *Reaper {
	return &Reaper{
		onError:  onError,
		children: make(map[int]*Child),
		kick:     make(chan struct{}, 1),
	}
}

// Run reaps until ctx is done: on every SIGCHLD (it adds its own channel with
// signal.Notify, which leaves the caller's channels alone), on Kick, and
// every second in case a signal was missed. Only one Run may be active in a
// process at a time.
func (r *Reaper) Run(ctx context.Context) error {
	if !reaperRunning.CompareAndSwap(false, true) {
		return errors.New("supervisor: reaper: another reaper is already running in this process")
	}
	defer reaperRunning.Store(false)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGCHLD)
	defer signal.Stop(sigs)
	tick := time.NewTicker(reapPoll)
	defer tick.Stop()
	for {
		r.reapSafely()
		select {
		case <-ctx.Done():
			r.reapSafely()
			return nil
		case <-sigs:
		case <-r.kick:
		case <-tick.C:
		}
	}
}

// Kick asks the running loop to reap now; for a caller that routes SIGCHLD
// itself. It never blocks.
func (r *Reaper) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Stats reports the counters.
func (r *Reaper) Stats() ReapStats {
	return ReapStats{Reaped: r.reaped.Load(), Orphans: r.orphans.Load()}
}

// StartProcess starts a process with syscall.ForkExec and registers it
// before any status can be dispatched.
func (r *Reaper) StartProcess(path string, argv []string, attr *syscall.ProcAttr) (*Child, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := syscall.ForkExec(path, argv, attr)
	if err != nil {
		return nil, err
	}
	c := &Child{Pid: pid, done: make(chan struct{})}
	r.children[pid] = c
	return c, nil
}

// WaitNoChildren reaps until this process has no children left (wait4
// reports ECHILD) or ctx is done. In PID 1 that means no process is left.
func (r *Reaper) WaitNoChildren(ctx context.Context) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		none, err := r.reapOnce()
		if err != nil {
			return err
		}
		if none {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("supervisor: reaper: waiting for the last children: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

func (r *Reaper) reapSafely() {
	var err error
	if perr := protect("reaper", func() { _, err = r.reapOnce() }); perr != nil {
		err = perr
	}
	if err != nil && r.onError != nil {
		r.onError(err)
	}
}

// reapOnce reaps every child that has ended; none reports that there are no
// children at all.
func (r *Reaper) reapOnce() (none bool, err error) {
	r.reapMu.Lock()
	defer r.reapMu.Unlock()
	for {
		var ws unix.WaitStatus
		// mu across the reap and the lookup: once wait4 frees a pid, a
		// StartProcess could be given it and register it, and the status
		// just reaped would go to that new process.
		r.mu.Lock()
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		var c *Child
		if err == nil && pid > 0 {
			c = r.children[pid]
			delete(r.children, pid)
		}
		r.mu.Unlock()
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ECHILD):
			return true, nil
		case err != nil:
			return false, fmt.Errorf("supervisor: reaper: wait4: %w", err)
		case pid <= 0:
			return false, nil
		}
		r.dispatch(c, pid, ws)
	}
}

// dispatch hands a reaped status to its Child, or counts an orphan (c nil).
func (r *Reaper) dispatch(c *Child, pid int, ws unix.WaitStatus) {
	r.reaped.Add(1)
	if c == nil {
		r.orphans.Add(1)
		return
	}
	c.status = statusOf(pid, ws)
	close(c.done)
}
