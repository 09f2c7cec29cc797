package appfs

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// lutimesZero sets a symlink's own times (not its target's) to the epoch.
func lutimesZero(p string) error {
	ts := []unix.Timespec{{}, {}}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("app disk: set the time of %s: %w", p, err)
	}
	return nil
}
