package main

import (
	"os"
	"slices"
	"strconv"
	"syscall"
)

// backgroundExcept lowers the scheduling priority of every thread of keel
// but the given ones (the pipe readers) to nice: on a full CPU, CMD and
// the readers that keep its pipes empty come first, and keel's batching,
// signing, sending, garbage collection and the Go runtime's own threads
// catch up after, from the buffer; on an idle CPU they run at full speed.
//
// On Linux a nice value belongs to a thread (setpriority on a thread id
// applies to that thread only) and a new thread inherits its creator's.
// The readers' threads are locked (LockOSThread), and the Go runtime
// creates a locked thread's new threads through its template thread,
// which is niced here with the rest: so every thread made later is niced
// too. CMD must have been started before, from a thread not yet niced,
// since a child inherits its forking thread's value. Two passes catch a
// thread created during the first.
func backgroundExcept(nice int, keep ...int) {
	// Never above CMD's priority: keel started at nice 15 stays there
	// (only lowering, which needs no privilege). Linux's getpriority
	// returns 20 - nice.
	if prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0); err == nil && 20-prio > nice {
		nice = 20 - prio
	}
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return // not Linux, or no /proc: everything at CMD's priority
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil || slices.Contains(keep, tid) {
				continue
			}
			syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice)
		}
	}
}
