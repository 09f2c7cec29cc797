package bootlog

import (
	"time"

	"golang.org/x/sys/unix"
)

// BootTime returns the wall-clock time of CLOCK_MONOTONIC's zero, to turn
// the kernel's monotonic stamps into times people can read. It moves if the
// wall clock is stepped; read it once the clock is set.
func BootTime() time.Time {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return time.Now()
	}
	return time.Now().Add(-time.Duration(ts.Nano()))
}
