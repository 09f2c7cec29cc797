package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

type mountPoint struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
}

var mounts = []mountPoint{
	{"devtmpfs", "/dev", "devtmpfs", syscall.MS_NOSUID, "mode=0755"},
	{"proc", "/proc", "proc", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC, ""},
	{"sysfs", "/sys", "sysfs", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC, ""},
	{"devpts", "/dev/pts", "devpts", syscall.MS_NOSUID | syscall.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620"},
	{"tmpfs", "/dev/shm", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=1777"},
	{"tmpfs", "/run", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=0755"},
	{"tmpfs", "/tmp", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=1777"},
	{"cgroup2", "/sys/fs/cgroup", "cgroup2", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC, ""},
}

// mountAll mounts what an app expects of a Linux system. A mount that
// already exists (a second start) is fine.
func mountAll() error {
	for _, m := range mounts {
		if err := m.mount(); err != nil && !errors.Is(err, syscall.EBUSY) {
			return err
		}
	}
	// devpts with newinstance needs /dev/ptmx to point into it.
	os.Remove("/dev/ptmx")
	if err := os.Symlink("pts/ptmx", "/dev/ptmx"); err != nil {
		return fmt.Errorf("link /dev/ptmx: %w", err)
	}
	return nil
}

// mountMissing, for a container's PID 1, mounts what the container's
// runtime left out (often /run and /tmp) and leaves alone what it mounted;
// it returns what could not be mounted, which the app does without (a
// container without CAP_SYS_ADMIN may mount nothing).
func mountMissing() []error {
	var errs []error
	for _, m := range mounts {
		if isMountPoint(m.target) {
			continue
		}
		if err := m.mount(); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// mount makes the mount point and mounts m on it.
func (m mountPoint) mount() error {
	if err := os.MkdirAll(m.target, 0o755); err != nil {
		return fmt.Errorf("create mount point %s: %w", m.target, err)
	}
	if err := syscall.Mount(m.source, m.target, m.fstype, m.flags, m.data); err != nil {
		return fmt.Errorf("mount %s on %s: %w", m.fstype, m.target, err)
	}
	return nil
}

// isMountPoint reports whether dir is a mount point: its device differs
// from its parent's (a bind mount of the same filesystem looks like a
// directory; mounting over it again is harmless).
func isMountPoint(dir string) bool {
	var st, parent syscall.Stat_t
	if syscall.Lstat(dir, &st) != nil {
		return false
	}
	if syscall.Lstat(dir+"/..", &parent) != nil {
		return false
	}
	return st.Dev != parent.Dev || st.Ino == parent.Ino
}
