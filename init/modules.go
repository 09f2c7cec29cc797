package main

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// loadModules loads kernel modules in the order the image builder wrote
// (dependencies first; the kernel package ships no modules.dep). A module
// that is already loaded (or built in) is fine.
func loadModules(paths []string) error {
	var failed []string
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		err = unix.FinitModule(int(f.Fd()), "", 0)
		f.Close()
		if err != nil && !errors.Is(err, unix.EEXIST) {
			failed = append(failed, fmt.Sprintf("%s: finit_module: %v", p, err))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d modules failed: %v", len(failed), len(paths), failed)
	}
	return nil
}
