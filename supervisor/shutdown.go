package supervisor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// reapBound bounds the wait for the last processes after SIGKILL: only a
// process stuck in the kernel (D state) outlives it. A variable for tests.
var reapBound = 5 * time.Second

// Shutdown stops the app and returns its final status: SIGTERM to its
// process group, up to grace for the whole group to end, SIGKILL to it; then, with
// Options.KillAll, the same for every other process with Options.KillAllGrace;
// then it reaps them and waits (bounded by DrainTimeout) for the pipes to be
// read to the end, taking what they hold if writers linger. No restart
// happens after Shutdown is called. ctx bounds the whole: when it ends,
// waiting stops and signals escalate to SIGKILL. Calling Shutdown again waits
// for the first call.
func (s *Supervisor) Shutdown(ctx context.Context, grace time.Duration) (Status, error) {
	s.mu.Lock()
	if s.shutStarted {
		s.mu.Unlock()
		select {
		case <-s.shutDone:
		case <-ctx.Done():
			return Status{}, fmt.Errorf("supervisor: waiting for the shutdown in progress: %w", ctx.Err())
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.final, s.finalErr
	}
	p, left, running := s.beginShutdownLocked()
	s.mu.Unlock()
	defer close(s.shutDone)
	var st Status
	var err error
	if perr := protect("shutdown", func() { st, err = s.shutdown(ctx, grace, p, left, running) }); perr != nil {
		s.report(perr)
		err = errors.Join(err, perr)
	}
	return st, err
}

// beginShutdownLocked stops starts and restarts; the caller holds s.mu. It
// returns the app's run, or the process group of its last run, and
// whether Run is running.
func (s *Supervisor) beginShutdownLocked() (*proc, int, bool) {
	s.shutStarted = true
	s.stopping = true
	close(s.stopCh)
	return s.cur, s.leftGroup, s.running
}

func (s *Supervisor) shutdown(ctx context.Context, grace time.Duration, p *proc, left int, running bool) (Status, error) {
	var errs []error
	if p != nil {
		errs = append(errs, s.stopApp(ctx, p, grace))
	} else if left > 0 {
		// The app ended on its own (the init passes no grace then): what
		// it left gets the app's grace.
		if grace <= 0 {
			grace = s.opt.Grace
		}
		s.stopGroup(ctx, left, grace)
	}
	// Before waiting for the run loop: escaped descendants may hold the
	// app's pipes, which the loop waits for.
	if s.opt.KillAll {
		errs = append(errs, s.killAll(ctx))
	}
	if running {
		select {
		case <-s.loopDone:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("supervisor: waiting for the run loop: %w", ctx.Err()))
		}
	}
	errs = append(errs, s.drainAll(ctx))
	s.mu.Lock()
	st, ferr := s.final, s.finalErr
	s.mu.Unlock()
	return st, errors.Join(append(errs, ferr)...)
}

// stopApp ends the app: SIGTERM to its process group, grace, SIGKILL. The
// grace is the whole group's: a wrapper script that runs the server
// without exec dies at once on SIGTERM, while the server, which got it
// too, is still stopping. An app that had exited already may have left
// processes in its group: they get the same.
func (s *Supervisor) stopApp(ctx context.Context, p *proc, grace time.Duration) error {
	pid := p.child.Pid
	if isDone(p.child) {
		if grace <= 0 {
			grace = s.opt.Grace
		}
		s.stopGroup(ctx, pid, grace)
		return nil
	}
	deadline := time.Now().Add(grace)
	s.event(LevelInfo, fmt.Sprintf("stopping: SIGTERM to pid %d and its process group, grace %v", pid, grace))
	if err := signalApp(pid, unix.SIGTERM); err != nil {
		s.report(fmt.Errorf("supervisor: SIGTERM to app pid %d: %w", pid, err))
	}
	t := time.NewTimer(grace)
	select {
	case <-p.child.Done():
	case <-t.C:
		s.event(LevelError, fmt.Sprintf("still running after the grace period of %v: SIGKILL to pid %d and its process group", grace, pid))
	case <-ctx.Done():
		s.event(LevelError, fmt.Sprintf("shutdown deadline: SIGKILL to pid %d and its process group", pid))
	}
	t.Stop()
	if isDone(p.child) {
		// Reaped: its pid, and its group's number once the group is
		// empty, may be another process's now; only a live group is
		// signalled.
		if err := s.waitGroupGone(ctx, pid, time.Until(deadline)); err != nil {
			s.event(LevelError, fmt.Sprintf("pid %d has exited but its process group %v: SIGKILL to the group", pid, err))
			_ = unix.Kill(-pid, unix.SIGKILL)
		}
		return nil
	}
	_ = signalApp(pid, unix.SIGKILL)
	reaped := time.NewTimer(reapBound)
	defer reaped.Stop()
	select {
	case <-p.child.Done():
		return nil
	case <-reaped.C:
		return fmt.Errorf("supervisor: app pid %d not reaped %v after SIGKILL (is the reaper running?)", pid, reapBound)
	case <-ctx.Done():
		return fmt.Errorf("supervisor: app pid %d not reaped after SIGKILL: %w", pid, ctx.Err())
	}
}

// groupAlive reports whether process group pgid has a process left, a
// zombie not yet reaped included.
func groupAlive(pgid int) bool {
	return pgid > 0 && unix.Kill(-pgid, 0) != unix.ESRCH
}

// waitGroupGone waits, reaping, until process group pgid is empty, for at
// most d and while ctx lasts; the error says why it stopped waiting.
func (s *Supervisor) waitGroupGone(ctx context.Context, pgid int, d time.Duration) error {
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		s.opt.Reaper.Kick()
		if !groupAlive(pgid) {
			return nil
		}
		select {
		case <-tick.C:
		case <-t.C:
			return fmt.Errorf("still has processes after the grace period of %v", d.Round(time.Millisecond))
		case <-ctx.Done():
			return fmt.Errorf("still has processes at the shutdown deadline")
		}
	}
}

// stopGroup stops what an app that has exited left in its process group:
// SIGTERM, up to grace (and while ctx lasts) for the group to empty,
// SIGKILL. A group that emptied gets no SIGKILL: its number is free again.
// Nor does one whose wait a Shutdown cut short (errShutdownBegan): the
// Shutdown gives it the rest of its grace.
func (s *Supervisor) stopGroup(ctx context.Context, pgid int, grace time.Duration) {
	if !groupAlive(pgid) {
		return
	}
	s.event(LevelInfo, fmt.Sprintf("stopping what pid %d left in its process group: SIGTERM, grace %v", pgid, grace))
	_ = unix.Kill(-pgid, unix.SIGTERM)
	err := s.waitGroupGone(ctx, pgid, grace)
	if err == nil || errors.Is(context.Cause(ctx), errShutdownBegan) {
		return
	}
	s.event(LevelError, fmt.Sprintf("process group %d %v: SIGKILL to the group", pgid, err))
	_ = unix.Kill(-pgid, unix.SIGKILL)
}

// errShutdownBegan ends endGroup's wait.
var errShutdownBegan = errors.New("a shutdown began")

// endGroup is stopGroup before a restart, which would otherwise find the
// old run's ports and files taken; a Shutdown that begins meanwhile takes
// the group over.
func (s *Supervisor) endGroup(pgid int, grace time.Duration) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		select {
		case <-s.stopCh:
			cancel(errShutdownBegan)
		case <-ctx.Done():
		}
	}()
	s.stopGroup(ctx, pgid, grace)
}

// drainAll waits for every pipe reader, bounded by DrainTimeout and ctx;
// then it cuts the rest short, keeping what their pipes already hold.
func (s *Supervisor) drainAll(ctx context.Context) error {
	if s.waitPipes(ctx, s.opt.DrainTimeout) {
		return nil
	}
	s.pipesMu.Lock()
	n := len(s.pipes)
	for r := range s.pipes {
		r.Stop()
	}
	s.pipesMu.Unlock()
	if s.waitPipes(context.Background(), time.Second) {
		return nil
	}
	return fmt.Errorf("supervisor: %d of the app's pipes still being read after the drain timeout of %v", n, s.opt.DrainTimeout)
}

func (s *Supervisor) waitPipes(ctx context.Context, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		s.pipesMu.Lock()
		n := len(s.pipes)
		s.pipesMu.Unlock()
		if n == 0 {
			return true
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}
