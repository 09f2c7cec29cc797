package supervisor

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// killAll stops every process but this one: descendants that called setsid
// escaped the app's process group. In PID 1 kill(-1) reaches them all; in
// any other process (a container's init, tests) the descendants are found
// in /proc, which finds orphans only if this process is a child subreaper.
func (s *Supervisor) killAll(ctx context.Context) error {
	if n := signalOthers(unix.SIGTERM); n == 0 {
		return s.reapAll(ctx)
	}
	s.event(LevelInfo, fmt.Sprintf("stopping every other process: SIGTERM, grace %v", s.opt.KillAllGrace))
	gctx, cancel := context.WithTimeout(ctx, s.opt.KillAllGrace)
	err := s.waitOthersGone(gctx)
	cancel()
	if err == nil {
		return s.reapAll(ctx)
	}
	if n := signalOthers(unix.SIGKILL); n > 0 {
		s.event(LevelError, fmt.Sprintf("SIGKILL to %d processes still running after %v", n, s.opt.KillAllGrace))
	}
	return s.reapAll(ctx)
}

func (s *Supervisor) reapAll(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, reapBound)
	defer cancel()
	return s.waitOthersGone(rctx)
}

// waitOthersGone reaps until no other process is left.
func (s *Supervisor) waitOthersGone(ctx context.Context) error {
	if os.Getpid() == 1 {
		return s.opt.Reaper.WaitNoChildren(ctx)
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		s.opt.Reaper.Kick()
		// Zombies too: a process is gone once it is reaped, not when it
		// has died.
		pids := descendants(os.Getpid(), true)
		if len(pids) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("supervisor: %d processes left (pids %v): %w", len(pids), first(pids, 10), ctx.Err())
		case <-tick.C:
		}
	}
}

// signalOthers signals every other process and says how many it reached
// (in PID 1: 1 if any, as kill(-1) does not count).
func signalOthers(sig syscall.Signal) int {
	if os.Getpid() == 1 {
		if unix.Kill(-1, sig) == nil {
			return 1
		}
		return 0
	}
	// Rounds: a process may fork while the tree is being walked. One that
	// is still dying in the next round is signalled again but counted once.
	reached := map[int]bool{}
	for range 3 {
		pids := descendants(os.Getpid(), false)
		if len(pids) == 0 {
			break
		}
		for _, pid := range pids {
			if unix.Kill(pid, sig) == nil {
				reached[pid] = true
			}
		}
	}
	return len(reached)
}

// descendants lists the descendants of root from /proc: the live ones, and
// the zombies too when zombies is set.
func descendants(root int, zombies bool) []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	children := make(map[int][]int)
	zombie := make(map[int]bool)
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		ppid, state, ok := procStat(pid)
		if !ok {
			continue
		}
		children[ppid] = append(children[ppid], pid)
		zombie[pid] = state == 'Z'
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			if zombies || !zombie[c] {
				out = append(out, c)
			}
			queue = append(queue, c)
		}
	}
	return out
}

// procStat reads the parent pid and state of a process from
// /proc/<pid>/stat ("pid (comm) S ppid ..."; comm may hold spaces and
// parentheses, so parse after the last ')').
func procStat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(string(f[1]))
	if err != nil {
		return 0, 0, false
	}
	return ppid, f[0][0], true
}

func first(pids []int, n int) []int {
	if len(pids) > n {
		return pids[:n]
	}
	return pids
}
