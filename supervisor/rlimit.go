package supervisor

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// rlimNLimits is RLIM_NLIMITS of the Linux UAPI: resources are 0 to 15.
const rlimNLimits = 16

// Rlimit is one resource limit for the app.
type Rlimit struct {
	Resource int // unix.RLIMIT_*; see RlimitResource
	Cur, Max uint64
}

var rlimitNames = map[string]int{
	"as": unix.RLIMIT_AS, "core": unix.RLIMIT_CORE, "cpu": unix.RLIMIT_CPU,
	"data": unix.RLIMIT_DATA, "fsize": unix.RLIMIT_FSIZE, "locks": unix.RLIMIT_LOCKS,
	"memlock": unix.RLIMIT_MEMLOCK, "msgqueue": unix.RLIMIT_MSGQUEUE, "nice": unix.RLIMIT_NICE,
	"nofile": unix.RLIMIT_NOFILE, "nproc": unix.RLIMIT_NPROC, "rss": unix.RLIMIT_RSS,
	"rtprio": unix.RLIMIT_RTPRIO, "rttime": unix.RLIMIT_RTTIME, "sigpending": unix.RLIMIT_SIGPENDING,
	"stack": unix.RLIMIT_STACK,
}

// RlimitResource maps a name as in prlimit(1) ("nofile", "core", ...) to its
// resource number.
func RlimitResource(name string) (int, error) {
	if r, ok := rlimitNames[strings.ToLower(name)]; ok {
		return r, nil
	}
	return 0, fmt.Errorf("supervisor: unknown resource limit %q", name)
}

// rlimitName is the prlimit(1) name of a resource, for messages.
func rlimitName(res int) string {
	for n, r := range rlimitNames {
		if r == res {
			return n
		}
	}
	return fmt.Sprint(res)
}

func (l Rlimit) validate() error {
	if l.Resource < 0 || l.Resource >= rlimNLimits {
		return fmt.Errorf("supervisor: resource limit %d: no such resource", l.Resource)
	}
	if l.Cur > l.Max {
		return fmt.Errorf("supervisor: resource limit %s: soft limit %d above hard limit %d", rlimitName(l.Resource), l.Cur, l.Max)
	}
	return nil
}

// applyRlimits sets the limits on the started app with prlimit(2). Go's
// ForkExec has no hook between fork and exec, and setting them on PID 1
// around the fork could starve PID 1 itself (RLIMIT_AS, RLIMIT_CPU), so they
// apply from the moment the app exists: its very first instructions may run
// under init's limits.
//
// A limit the app inherited already (ours is the same) is left alone:
// prlimit on another user's process needs CAP_SYS_RESOURCE, which a
// container's PID 1 often lacks.
func applyRlimits(pid int, ls []Rlimit) error {
	for _, l := range ls {
		var own unix.Rlimit
		if unix.Getrlimit(l.Resource, &own) == nil && own.Cur == l.Cur && own.Max == l.Max {
			continue
		}
		lim := unix.Rlimit{Cur: l.Cur, Max: l.Max}
		if err := unix.Prlimit(pid, l.Resource, &lim, nil); err != nil {
			hint := ""
			if errors.Is(err, unix.EPERM) {
				hint = " (setting another user's limits needs CAP_SYS_RESOURCE, which containers often lack"
				if l.Resource == unix.RLIMIT_NOFILE {
					hint += "; and nofile cannot exceed the kernel's fs.nr_open, 1048576 by default"
				}
				hint += ")"
			}
			return fmt.Errorf("prlimit pid %d %s to %s: %w%s", pid, rlimitName(l.Resource), limitText(l), err, hint)
		}
	}
	return nil
}

// limitText is SOFT:HARD as configured, "unlimited" for RLIM_INFINITY.
func limitText(l Rlimit) string {
	v := func(n uint64) string {
		if n == unix.RLIM_INFINITY {
			return "unlimited"
		}
		return fmt.Sprint(n)
	}
	return v(l.Cur) + ":" + v(l.Max)
}
