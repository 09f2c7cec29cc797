// Command bareinit is the baseline of the boot figures: a PID 1 that does
// nothing but report the time and exec the app.
package main

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

func main() {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	fmt.Fprintf(os.Stderr, "bare init start monotonic-us %d\n", ts.Nano()/1000)
	err := syscall.Exec("/app/hello", []string{"/app/hello", "clock"}, nil)
	fmt.Fprintf(os.Stderr, "bare init: exec: %v\n", err)
	select {}
}
