package supervisor

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keelvm/keel/internal/piperead"
	"golang.org/x/sys/unix"
)

// App is what to run and how.
type App struct {
	Path  string   // absolute path of the binary
	Args  []string // arguments after argv[0] (which is Path)
	Env   []string // the environment; PATH and HOME are added when missing
	Dir   string   // working directory; "" is /
	User  string   // name or uid ("user:group" works too); "" keeps the supervisor's
	Group string   // name or gid; "" is the user's primary group

	Rlimits []Rlimit // applied when the app starts (see applyRlimits)
	Restart Restart  // "" is RestartNever
}

// Options tune a Supervisor. Sink and Reaper are required.
type Options struct {
	Sink   Sink    // receives the app's lines and lifecycle events; never blocks
	Reaper *Reaper // the process's one reaper, running

	Backoff        Backoff // between restarts
	CrashLoopAfter int     // consecutive short runs that make a crash loop; default 5
	MaxRestarts    int     // give up after this many restarts; 0: never give up

	MaxLine      int           // longest line emitted whole; default DefaultMaxLine
	Grace        time.Duration // SIGTERM to SIGKILL when Run's ctx ends; default 10s
	DrainTimeout time.Duration // wait for pipes after the app ends; default 2s

	// KillAll makes Shutdown also stop every other process once the app is
	// down: kill(-1) in PID 1, else this process's descendants as found in
	// /proc (which needs PR_SET_CHILD_SUBREAPER to catch orphans).
	KillAll      bool
	KillAllGrace time.Duration // SIGTERM to SIGKILL for them; default 2s

	OnError func(error)   // internal errors and recovered panics; optional, must not block
	OnStart func(pid int) // called after each start of the app; optional, must not block
}

// Supervisor runs one app. Run it once; Forward and Shutdown may be called
// from any goroutine.
type Supervisor struct {
	app App
	opt Options

	mu        sync.Mutex
	cur       *proc // the running app, nil between runs
	leftGroup int   // the process group of the last run, which may outlive it; 0: stopped
	running   bool  // Run was called
	stopping  bool  // no more starts or restarts
	stopCh    chan struct{}
	loopDone  chan struct{} // closed when Run's loop has ended
	final     Status
	finalErr  error

	shutStarted bool
	shutDone    chan struct{}

	pipesMu sync.Mutex
	pipes   map[*piperead.Reader]bool

	sinkPanics atomic.Uint64
}

// New checks the configuration and makes a Supervisor.
func New(app App, opt Options) (*Supervisor, error) {
	switch {
	case opt.Sink == nil:
		return nil, errors.New("supervisor: no sink")
	case opt.Reaper == nil:
		return nil, errors.New("supervisor: no reaper")
	case app.Path == "":
		return nil, errors.New("supervisor: no app path")
	case !filepath.IsAbs(app.Path):
		return nil, fmt.Errorf("supervisor: app path %q is not absolute", app.Path)
	case !app.Restart.valid():
		return nil, fmt.Errorf("supervisor: restart policy %q: want always, on-failure or never", app.Restart)
	}
	for _, l := range app.Rlimits {
		if err := l.validate(); err != nil {
			return nil, err
		}
	}
	if opt.CrashLoopAfter <= 0 {
		opt.CrashLoopAfter = 5
	}
	if opt.MaxLine <= 0 {
		opt.MaxLine = DefaultMaxLine
	}
	opt.MaxLine = max(opt.MaxLine, minMaxLine)
	if opt.Grace <= 0 {
		opt.Grace = 10 * time.Second
	}
	if opt.DrainTimeout <= 0 {
		opt.DrainTimeout = 2 * time.Second
	}
	if opt.KillAllGrace <= 0 {
		opt.KillAllGrace = 2 * time.Second
	}
	opt.Backoff = opt.Backoff.withDefaults()
	return &Supervisor{
		app:      app,
		opt:      opt,
		stopCh:   make(chan struct{}),
		loopDone: make(chan struct{}),
		shutDone: make(chan struct{}),
		pipes:    make(map[*piperead.Reader]bool),
	}, nil
}

// Run starts the app and keeps it running by its restart policy. It returns
// when the app ended and is not restarted, when a start fails (the error is
// a *StartError), or after Shutdown; the Status is the app's last. When ctx
// ends, Run shuts the app down with Options.Grace and returns once the
// shutdown is complete.
func (s *Supervisor) Run(ctx context.Context) (st Status, err error) {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return Status{}, errors.New("supervisor: Run called twice")
	}
	s.running = true
	s.mu.Unlock()

	func() {
		defer func() {
			if r := recover(); r != nil {
				err = protect("run loop", func() { panic(r) })
				s.report(err)
			}
		}()
		st, err = s.loop(ctx)
	}()

	s.mu.Lock()
	s.final, s.finalErr = st, err
	s.cur = nil
	shut := s.shutStarted
	s.mu.Unlock()
	close(s.loopDone)
	if shut {
		<-s.shutDone
	}
	return st, err
}

func (s *Supervisor) loop(ctx context.Context) (Status, error) {
	plan := newRestartPlan(s.opt.Backoff)
	var last Status
	for {
		p, stopped, err := s.startRun()
		if stopped {
			return last, nil
		}
		if err != nil {
			s.event(LevelError, "giving up: "+err.Error())
			var se *StartError
			if errors.As(err, &se) {
				return Status{Code: se.ExitCode()}, err
			}
			return Status{Code: 126}, err
		}

		select {
		case <-p.child.Done():
		case <-s.shutDone: // a Shutdown that ended without the app's end
		case <-ctx.Done():
			s.shutdownFromRun()
			select {
			case <-p.child.Done():
			case <-s.shutDone:
			}
		}
		// Shutdowns are bounded (Shutdown's by its ctx); an app stuck in
		// the kernel (D state) outlives SIGKILL and must not hold Run
		// forever.
		if !isDone(p.child) {
			err := fmt.Errorf("supervisor: app %s pid %d did not end after SIGKILL (stuck in the kernel?)", s.app.Path, p.child.Pid)
			s.event(LevelError, err.Error())
			return Status{Pid: p.child.Pid, Signal: unix.SIGKILL}, err
		}
		st := p.child.Status()
		ran := time.Since(p.started)
		// The app's last lines go before the news of its end.
		s.waitDrained(p, s.opt.DrainTimeout)
		lvl := LevelInfo
		if !st.Success() {
			lvl = LevelError
		}
		s.event(lvl, st.String())
		last = st

		s.mu.Lock()
		s.cur = nil
		s.leftGroup = st.Pid // what the run left in its group, until a restart stops it
		stopping := s.stopping
		s.mu.Unlock()
		switch {
		case stopping:
			return st, nil
		case !s.app.Restart.restarts(st):
			policy := s.app.Restart
			if policy == "" {
				policy = RestartNever
			}
			s.event(LevelInfo, fmt.Sprintf("not restarting (restart policy %s)", policy))
			return st, nil
		case s.opt.MaxRestarts > 0 && plan.restarts >= s.opt.MaxRestarts:
			err := fmt.Errorf("supervisor: app %s: giving up after %d restarts, last %s", s.app.Path, plan.restarts, st)
			s.event(LevelError, fmt.Sprintf("giving up after %d restarts", plan.restarts))
			return st, err
		}
		if st.Pid > 0 {
			s.endGroup(st.Pid, s.opt.Grace)
		}
		s.mu.Lock()
		stopping = s.stopping
		if !stopping {
			s.leftGroup = 0 // stopped; a Shutdown that began meanwhile stops what is left
		}
		s.mu.Unlock()
		if stopping {
			return st, nil
		}

		delay := plan.after(ran)
		if plan.unstable == s.opt.CrashLoopAfter {
			s.event(LevelError, fmt.Sprintf("crash loop: %d runs in a row ended within %v of starting; backing off up to %v",
				plan.unstable, s.opt.Backoff.StableAfter, s.opt.Backoff.Max))
		}
		s.event(LevelInfo, fmt.Sprintf("restarting in %v", delay))
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-s.stopCh:
			t.Stop()
			return st, nil
		case <-ctx.Done():
			t.Stop()
			s.shutdownFromRun()
			return st, nil
		}
	}
}

// startRun starts a run unless a shutdown has begun; s.mu is held across,
// so that Shutdown sees either no process or a registered one.
func (s *Supervisor) startRun() (p *proc, stopped bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return nil, true, nil
	}
	p, err = s.start()
	s.cur = p
	return p, false, err
}

// shutdownFromRun starts the shutdown Run's ctx asked for; Run waits for it
// to complete before returning.
func (s *Supervisor) shutdownFromRun() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutStarted {
		return
	}
	p, left, running := s.beginShutdownLocked()
	go func() {
		defer close(s.shutDone)
		ctx, cancel := context.WithTimeout(context.Background(), s.ShutdownBound())
		defer cancel()
		if err := protect("shutdown", func() { _, _ = s.shutdown(ctx, s.opt.Grace, p, left, running) }); err != nil {
			s.report(err)
		}
	}()
}

// ShutdownBound is the longest a shutdown takes when every step runs to its
// own bound: the app's grace and its reaping after SIGKILL, the other
// processes' grace and theirs, the pipes' drain and their cut, and a margin.
// A shutdown from Run is bounded by it; give Shutdown a ctx of it.
func (s *Supervisor) ShutdownBound() time.Duration {
	return s.opt.Grace + s.opt.KillAllGrace + 2*reapBound + s.opt.DrainTimeout + 2*time.Second
}

// waitDrained waits, bounded, for the app's pipes to be read to the end. A
// descendant may keep them open: its lines keep flowing after the bound.
func (s *Supervisor) waitDrained(p *proc, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.drained:
	case <-t.C:
	}
}

// event emits a lifecycle event.
func (s *Supervisor) event(level, msg string) {
	s.emit(Event{Time: time.Now(), Level: level, Source: SourceKeel, Message: msg})
}

// emit hands an event to the sink; a panicking sink is reported once and
// never stops the caller.
func (s *Supervisor) emit(ev Event) {
	defer func() {
		if r := recover(); r != nil {
			if s.sinkPanics.Add(1) == 1 && s.opt.OnError != nil {
				s.opt.OnError(fmt.Errorf("supervisor: sink: panic: %v (further sink panics are not reported)", r))
			}
		}
	}()
	s.opt.Sink.Log(ev)
}

// report passes an internal error to OnError and to the sink.
func (s *Supervisor) report(err error) {
	if s.opt.OnError != nil {
		if perr := protect("OnError", func() { s.opt.OnError(err) }); perr != nil {
			s.event(LevelError, perr.Error())
		}
	}
	s.event(LevelError, err.Error())
}

func (s *Supervisor) trackPipe(r *piperead.Reader) {
	s.pipesMu.Lock()
	s.pipes[r] = true
	s.pipesMu.Unlock()
}

func (s *Supervisor) untrackPipe(r *piperead.Reader) {
	s.pipesMu.Lock()
	delete(s.pipes, r)
	s.pipesMu.Unlock()
}
