package supervisor

import (
	"fmt"
	"runtime/debug"
)

// protect runs f and turns a panic into an error naming what panicked, so
// that no bug in a goroutine of PID 1 can bring the machine down.
func protect(what string, f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("supervisor: %s: panic: %v\n%s", what, r, debug.Stack())
		}
	}()
	f()
	return nil
}
