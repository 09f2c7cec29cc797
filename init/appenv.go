package main

import (
	"fmt"
	"sort"
	"strings"
	"syscall"

	"github.com/keelvm/keel/internal/bootcfg"
	"github.com/keelvm/keel/supervisor"
)

// defaultPath is the PATH of an app whose configured environment has none:
// a configured environment replaces the supervisor's default (PATH and
// HOME), and an app without PATH cannot run helpers by name.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// appEnv is the app's environment: nil (the supervisor's default) when none
// is configured, else the configured one with PATH added when missing.
func appEnv(env []string) []string {
	if env == nil {
		return nil
	}
	for _, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			return env
		}
	}
	return append([]string{defaultPath}, env...)
}

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

// inheritNofile raises init's own open-file limit to the app's, so that
// the app has it from its first instruction: the supervisor's prlimit comes
// only after the exec. Only a raise: init needs its own descriptors (console,
// pipes, sockets), and the app gets a lower limit from the prlimit all the
// same. syscall.Setrlimit also stops Go from restoring its startup limit in
// the children it forks.
//
// In a container (ownMachine false) the runtime sets the limits and may not let
// them be raised (no CAP_SYS_RESOURCE, as Docker runs containers): there
// an open-file limit beyond the container's hard limit is lowered to it,
// with a note, instead of failing the app's start.
func inheritNofile(ls []supervisor.Rlimit, ownMachine bool) {
	for i, l := range ls {
		if l.Resource != syscall.RLIMIT_NOFILE {
			continue
		}
		var cur syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &cur); err != nil || l.Cur < cur.Cur || l.Max < cur.Max {
			return
		}
		err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: l.Cur, Max: l.Max})
		switch {
		case err == nil:
		case !ownMachine && l.Max > cur.Max:
			ls[i].Cur, ls[i].Max = min(l.Cur, cur.Max), cur.Max
			logf("open-file limit %d/%d: above this container's hard limit %d, which it may not raise (%v): the app gets %d/%d",
				l.Cur, l.Max, cur.Max, err, ls[i].Cur, ls[i].Max)
		default:
			logf("raise init's open-file limit to the app's %d/%d: %v (the app gets it just after it starts)", l.Cur, l.Max, err)
		}
	}
}
