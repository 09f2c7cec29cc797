// Package image assembles what a keel VM boots: an initramfs holding keel's
// init as /init, the app, the configuration the init reads
// (internal/bootcfg), the console and null device nodes, and the kernel
// modules the target's hardware needs in the order init must load them.
//
// This is the builder's core; the `keel fuse` command, disk images and the
// image store build on it.
package image

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/image/modules"
	"github.com/keelvm/keel/internal/bootcfg"
	"github.com/keelvm/keel/internal/fsutil"
	"github.com/keelvm/keel/logserver/auth"
)

// Build describes an initramfs.
type Build struct {
	Init    string            // host path of keel's init binary
	Kernel  *kernel.Kernel    // whose modules are bundled
	Modules []string          // module names; their dependencies are added
	Config  bootcfg.Config    // Modules is filled in by Write
	Files   []initramfs.Entry // the app and anything else it needs
}

// Credentials is the initramfs file that gives an image's init its key for
// the logs: root-only, where bootcfg expects it, never on the kernel
// command line (which every process can read).
func Credentials(key auth.Key) initramfs.Entry {
	return initramfs.Entry{Path: bootcfg.DefaultCredentials, Kind: initramfs.File, Mode: 0o600,
		Data: []byte(auth.CredentialsSection(key, "default"))}
}

// Write writes the compressed initramfs to path, atomically: a failure
// leaves nothing behind. It returns the bundled module paths.
func (b Build) Write(path string) ([]string, error) {
	mods, _, err := b.WriteListed(path)
	return mods, err
}

// WriteListed is Write that also returns the archive's entries as
// written, in order.
func (b Build) WriteListed(path string) ([]string, []initramfs.Written, error) {
	a := initramfs.New()
	if b.Kernel != nil {
		if err := b.Kernel.CheckInitramfs(); err != nil {
			return nil, nil, fmt.Errorf("build initramfs %s: %w", path, err)
		}
	}
	var mods []string
	if len(b.Modules) > 0 {
		if b.Kernel == nil {
			return nil, nil, fmt.Errorf("build initramfs %s: modules %v need a kernel", path, b.Modules)
		}
		tree, err := modules.Open(b.Kernel.Modules)
		if err != nil {
			return nil, nil, err
		}
		rels, err := tree.Resolve(b.Modules...)
		if err != nil {
			return nil, nil, err
		}
		for _, rel := range rels {
			p := "/lib/modules/" + b.Kernel.Version + "/" + rel
			mods = append(mods, p)
			if err := a.Add(initramfs.Entry{Path: p, Kind: initramfs.File, Mode: 0o644, Source: filepath.Join(b.Kernel.Modules, rel)}); err != nil {
				return nil, nil, err
			}
		}
	}
	cfg := b.Config
	cfg.Modules = mods
	base := []initramfs.Entry{
		{Path: "/init", Kind: initramfs.File, Mode: 0o755, Source: b.Init},
		{Path: bootcfg.Path, Kind: initramfs.File, Mode: 0o644, Data: cfg.Marshal()},
		// fds 0-2 of the first process come from /dev/console, before any
		// devtmpfs is mounted.
		{Path: "/dev/console", Kind: initramfs.CharDev, Mode: 0o600, Major: 5, Minor: 1},
		{Path: "/dev/null", Kind: initramfs.CharDev, Mode: 0o666, Major: 1, Minor: 3},
	}
	for _, e := range append(base, b.Files...) {
		if err := a.Add(e); err != nil {
			return nil, nil, err
		}
	}
	var buf bytes.Buffer
	if _, err := a.WriteTo(&buf); err != nil {
		return nil, nil, err
	}
	// WriteFileAtomic removes its temporary file when the write fails
	// (a full disk), which a plain WriteFile and rename left behind.
	if err := fsutil.WriteFileAtomic(path, buf.Bytes(), 0o644); err != nil {
		return nil, nil, fmt.Errorf("write initramfs: %w", err)
	}
	return mods, a.Written(), nil
}
