// Command bareinit is the baseline of the boot figures: a PID 1 that does
// nothing but report the time, mark its exec of the app in the kernel's
// log (as keel's init does) and exec the app.
package main

import (
	"fmt"
	"os"
	"syscall"

	"github.com/keelvm/keel/cmd/keel-bench/benchinit"
)

func main() {
	benchinit.Start("bare")
	benchinit.MarkAppStarted()
	err := syscall.Exec("/app/hello", []string{"/app/hello", "clock"}, nil)
	fmt.Fprintf(os.Stderr, "bare init: exec: %v\n", err)
	select {}
}
