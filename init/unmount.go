package main

import (
	"bufio"
	"errors"
	"os"
	"sort"
	"strings"
	"syscall"
)

// unmountAll unmounts every filesystem but the root, deepest first, once
// everything is stopped and synced: what init mounted, and what a
// privileged app may have mounted (a disk it wrote to, say), so that no
// filesystem goes down dirty. A busy one is detached. Only as PID 1: in a
// container the mounts belong to the host.
func unmountAll() {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		logf("unmount: read /proc/self/mounts: %v", err)
		return
	}
	var targets []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[1] != "/" {
			targets = append(targets, unescapeMount(fields[1]))
		}
	}
	f.Close()
	// Deepest first: /dev/pts before /dev, /sys/fs/cgroup before /sys.
	sort.SliceStable(targets, func(i, j int) bool { return strings.Count(targets[i], "/") > strings.Count(targets[j], "/") })
	done, detached, failed := 0, 0, 0
	for _, t := range targets {
		err := syscall.Unmount(t, 0)
		if errors.Is(err, syscall.EBUSY) {
			err = syscall.Unmount(t, syscall.MNT_DETACH)
			if err == nil {
				detached++
				continue
			}
		}
		if err != nil {
			failed++
			logf("unmount %s: %v", t, err)
			continue
		}
		done++
	}
	logf("unmount: %d unmounted, %d busy and detached, %d failed", done, detached, failed)
}

// unescapeMount undoes the octal escapes of /proc/self/mounts (\040 for a
// space, \011, \012, \134).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, ok := octal(s[i+1 : i+4]); ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func octal(s string) (byte, bool) {
	if len(s) != 3 {
		return 0, false
	}
	v := 0
	for _, c := range s {
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v*8 + int(c-'0')
	}
	return byte(v), v < 256
}
