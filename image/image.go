// Package image assembles what a keel VM boots: an initramfs holding keel's
// init as /init, the app, the configuration the init reads
// (bootcfg), the console and null device nodes, and the kernel
// modules the target's hardware needs in the order init must load them.
//
// This is the builder's core; the `keel fuse` command, disk images and the
// image store build on it.
package image

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/image/modules"
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
	// DiskModules are the modules the app disk needs (Config.AppDisk),
	// loaded first; Config.AppDisk.Modules is filled in by Write.
	DiskModules []string
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
	_, mods, entries, err := b.write(path)
	return mods, entries, err
}

// write writes the initramfs and returns the configuration as written in
// it, every module path in load order, and the entries.
func (b Build) write(path string) (bootcfg.Config, []string, []initramfs.Written, error) {
	var none bootcfg.Config
	a := initramfs.New()
	if b.Kernel != nil {
		if err := b.Kernel.CheckInitramfs(); err != nil {
			return none, nil, nil, fmt.Errorf("build initramfs %s: %w", path, err)
		}
	}
	var mods, diskMods []string
	if len(b.Modules)+len(b.DiskModules) > 0 {
		if b.Kernel == nil {
			return none, nil, nil, fmt.Errorf("build initramfs %s: modules %v need a kernel", path, append(b.DiskModules, b.Modules...))
		}
		tree, err := modules.Open(b.Kernel.Modules)
		if err != nil {
			return none, nil, nil, err
		}
		added := map[string]bool{}
		add := func(names []string) ([]string, error) {
			if len(names) == 0 {
				return nil, nil
			}
			rels, err := tree.Resolve(names...)
			if err != nil {
				return nil, err
			}
			var out []string
			for _, rel := range rels {
				if added[rel] {
					continue // loaded with the disk's
				}
				added[rel] = true
				p := "/lib/modules/" + b.Kernel.Version + "/" + rel
				out = append(out, p)
				if err := a.Add(initramfs.Entry{Path: p, Kind: initramfs.File, Mode: 0o644, Source: filepath.Join(b.Kernel.Modules, rel)}); err != nil {
					return nil, err
				}
			}
			return out, nil
		}
		if diskMods, err = add(b.DiskModules); err != nil {
			return none, nil, nil, err
		}
		if mods, err = add(b.Modules); err != nil {
			return none, nil, nil, err
		}
	}
	cfg := b.Config
	cfg.Modules = mods
	if cfg.AppDisk != nil {
		d := *cfg.AppDisk
		d.Modules = diskMods
		cfg.AppDisk = &d
	}
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
			return none, nil, nil, err
		}
	}
	if err := a.AddLast(initramfs.Entry{Path: bootcfg.Unpacked, Kind: initramfs.File, Mode: 0o444, Data: []byte("keel's initramfs unpacked whole\n")}); err != nil {
		return none, nil, nil, err
	}
	var buf bytes.Buffer
	if _, err := a.WriteTo(&buf); err != nil {
		return none, nil, nil, err
	}
	// WriteFileAtomic removes its temporary file when the write fails
	// (a full disk), which a plain WriteFile and rename left behind.
	if err := fsutil.WriteFileAtomic(path, buf.Bytes(), 0o644); err != nil {
		return none, nil, nil, fmt.Errorf("write initramfs: %w", err)
	}
	return cfg, append(diskMods, mods...), a.Written(), nil
}
