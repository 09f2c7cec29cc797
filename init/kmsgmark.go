package main

import (
	"fmt"
	"os"
)

// markKernelLog writes one record into the kernel's log, so that what init
// does lines up with the kernel's own records on the kernel's clock (the
// boot figures measure from "Run /init" to the app's exec by it). It is
// best effort: outside a VM /dev/kmsg may be missing or not writable.
func markKernelLog(format string, args ...any) {
	if !ownsMachine {
		return // a container's kernel log is the host's
	}
	f, err := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0) // no O_CREAT: a plain file would swallow it
	if err != nil {
		return
	}
	// Level 6 (info): below the console level that "quiet" leaves.
	fmt.Fprintf(f, "<6>keel: "+format+"\n", args...)
	f.Close()
}
