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
// process group, up to grace for it to end, SIGKILL to the group; then, with
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
	p, running := s.beginShutdownLocked()
	s.mu.Unlock()
	defer close(s.shutDone)
	var st Status
	var err error
	if perr := protect("shutdown", func() { st, err = s.shutdown(ctx, grace, p, running) }); perr != nil {
		s.report(perr)
		err = errors.Join(err, perr)
	}
	return st, err
}

// beginShutdownLocked stops starts and restarts; the caller holds s.mu.
func (s *Supervisor) beginShutdownLocked() (*proc, bool) {
	s.shutStarted = true
	s.stopping = true
	close(s.stopCh)
	return s.cur, s.running
}

func (s *Supervisor) shutdown(ctx context.Context, grace time.Duration, p *proc, running bool) (Status, error) {
	var errs []error
	if p != nil {
		errs = append(errs, s.stopApp(ctx, p, grace))
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

// stopApp ends the app: SIGTERM, grace, SIGKILL. Its process group gets
// SIGKILL either way once the app is gone, for what it left behind.
func (s *Supervisor) stopApp(ctx context.Context, p *proc, grace time.Duration) error {
	pid := p.child.Pid
	if !isDone(p.child) {
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
	}
	_ = signalApp(pid, unix.SIGKILL)
	t := time.NewTimer(reapBound)
	defer t.Stop()
	select {
	case <-p.child.Done():
		return nil
	case <-t.C:
		return fmt.Errorf("supervisor: app pid %d not reaped %v after SIGKILL (is the reaper running?)", pid, reapBound)
	case <-ctx.Done():
		return fmt.Errorf("supervisor: app pid %d not reaped after SIGKILL: %w", pid, ctx.Err())
	}
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
