package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// loadModules loads kernel modules in the order given: the image builder
// writes paths, dependencies first (the kernel package ships no
// modules.dep); keel.modules= on the command line may add names, found in
// the image's /lib/modules/RELEASE. A module that is already loaded (or
// built in) is fine.
//
// Each module's time goes into one line of the boot log: under emulation a
// module's signature check and probe are a large part of the boot.
func loadModules(mods []string) error {
	var failed, took []string
	defer func() {
		if len(took) > 0 {
			logf("modules: %s", strings.Join(took, ", "))
		}
	}()
	for _, m := range mods {
		t0 := time.Now()
		p, err := modulePath(m)
		if err != nil {
			failed = append(failed, err.Error())
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		err = unix.FinitModule(int(f.Fd()), "", 0)
		f.Close()
		if err != nil && !errors.Is(err, unix.EEXIST) {
			failed = append(failed, fmt.Sprintf("%s: finit_module: %v", p, err))
			continue
		}
		took = append(took, fmt.Sprintf("%s %v", strings.TrimSuffix(filepath.Base(p), ".ko"), time.Since(t0).Round(100*time.Microsecond)))
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d modules failed: %v", len(failed), len(mods), failed)
	}
	return nil
}

// modulePath finds the .ko file of a module given by name (dashes and
// underscores are the same to the kernel) under /lib/modules/RELEASE.
func modulePath(m string) (string, error) {
	if filepath.IsAbs(m) {
		return m, nil
	}
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return "", fmt.Errorf("module %s: uname: %w", m, err)
	}
	root := "/lib/modules/" + unix.ByteSliceToString(uts.Release[:])
	want := strings.ReplaceAll(m, "-", "_") + ".ko"
	found := ""
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.ReplaceAll(d.Name(), "-", "_") == want {
			found = p
			return filepath.SkipAll
		}
		return nil
	})
	if found == "" {
		return "", fmt.Errorf("module %s: no %s under %s (the image holds only the modules it was built with)", m, want, root)
	}
	return found, nil
}
