package main

import (
	"fmt"
	"sort"
	"syscall"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/supervisor"
)

// rlimits converts the configured limits (checked by bootcfg) for the
// supervisor, in a stable order.
func rlimits(m map[string]string) ([]supervisor.Rlimit, error) {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []supervisor.Rlimit
	for _, n := range names {
		res, err := supervisor.RlimitResource(n)
		if err != nil {
			return nil, err
		}
		soft, hard, err := bootcfg.ParseRlimit(m[n])
		if err != nil {
			return nil, fmt.Errorf("resource limit %s=%q: %w", n, m[n], err)
		}
		out = append(out, supervisor.Rlimit{Resource: res, Cur: soft, Max: hard})
	}
	return out, nil
}

// nofileFloor is the lowest open-file limit init takes for itself so that
// the app inherits it: init needs descriptors of its own (console, pipes,
// sockets), a few dozen; a lower limit is set on the app alone.
const nofileFloor = 1024

// inheritNofile sets init's own open-file limit to the app's, so that the
// app inherits it from its first instruction and the supervisor's prlimit,
// which comes only after the exec, has nothing to do: prlimit on another
// user's process needs CAP_SYS_RESOURCE, which a container's PID 1 lacks
// as Docker runs containers, and the app would not start at all. A limit
// below nofileFloor is left to the prlimit. syscall.Setrlimit also stops Go
// from restoring its startup limit in the children it forks.
//
// In a container (ownMachine false) the runtime sets the limits and may not
// let them be raised: there an open-file limit beyond the container's hard
// limit is lowered to it, with a note, instead of failing the app's start.
func inheritNofile(ls []supervisor.Rlimit, ownMachine bool) {
	for i, l := range ls {
		if l.Resource != syscall.RLIMIT_NOFILE {
			continue
		}
		var cur syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &cur); err != nil || l.Cur < nofileFloor {
			return
		}
		err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: l.Cur, Max: l.Max})
		switch {
		case err == nil:
		case !ownMachine && l.Max > cur.Max:
			ls[i].Cur, ls[i].Max = min(l.Cur, cur.Max), cur.Max
			// Up to the hard limit needs no privilege.
			err = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: ls[i].Cur, Max: ls[i].Max})
			logf("open-file limit %d/%d: above this container's hard limit %d, which it may not raise: the app gets %d/%d",
				l.Cur, l.Max, cur.Max, ls[i].Cur, ls[i].Max)
			if err != nil {
				logf("set init's open-file limit to the app's %d/%d: %v (the app gets it just after it starts)", ls[i].Cur, ls[i].Max, err)
			}
		default:
			logf("set init's open-file limit to the app's %d/%d: %v (the app gets it just after it starts)", l.Cur, l.Max, err)
		}
	}
}
