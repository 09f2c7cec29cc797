package main

import "os"

// ownsMachine is true when init is the machine's own PID 1, started by the
// kernel (in a VM): then it mounts, loads drivers, configures the network,
// reads the kernel's log and powers off. As PID 1 of a container, or as a
// process on a host (tests), those belong to the container's runtime or to
// the host: init runs and supervises the app, reaps, ships its logs and
// exits with the app's status. Set once, at the start of run.
var ownsMachine bool

// initialPIDNamespace is the kernel's first PID namespace as
// /proc/self/ns/pid names it (PROC_PID_INIT_INO, fixed since Linux 3.8).
const initialPIDNamespace = "pid:[4026531836]"

// detectMachine tells a VM's init from a container's PID 1. A container's
// runtime mounts /proc before it starts PID 1, in a PID namespace of its
// own; the kernel starts a VM's init with nothing mounted.
func detectMachine() bool {
	if os.Getpid() != 1 {
		return false
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return true // no /proc yet: the kernel just started us
	}
	return ns == initialPIDNamespace
}
