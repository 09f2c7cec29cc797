// Package kernel provides the Linux kernel keel images boot: Debian's
// generic amd64 kernel (it has virtio, e1000, AHCI, ENA and NVMe as
// modules), fetched with `apt-get download`, unpacked with `dpkg -x`, and
// cached under keel's state directory. apt verifies the package against the
// signed archive index; the cache records the package's SHA-256 and checks
// the unpacked kernel against it on every use.
//
// It knows where kernels and their modules are, not what an image needs
// from them (package image picks modules and writes the initramfs).
package kernel

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/keelvm/keel/debpkg"
)

// DefaultPackage is the metapackage whose dependency names the kernel.
const DefaultPackage = "linux-image-amd64"

// Kernel is an unpacked kernel in the cache.
type Kernel struct {
	Version string // e.g. 6.1.0-48-amd64
	Package string // e.g. linux-image-6.1.0-48-amd64
	Dir     string // cache directory of this kernel
	Vmlinuz string // path of the kernel image
	Modules string // lib/modules/<version> directory
	SHA256  string // of vmlinuz
}

type manifest struct {
	Version, Package, DebSHA256, VmlinuzSHA256 string
}

// Ensure returns the kernel of pkg (DefaultPackage when empty) from cache,
// fetching and unpacking it first when missing. progress, if set, receives
// what is happening.
func Ensure(cache, pkg string, progress io.Writer) (*Kernel, error) {
	if pkg == "" {
		pkg = DefaultPackage
	}
	if progress == nil {
		progress = io.Discard
	}
	name, err := resolve(pkg)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cache, name)
	if k, err := load(dir); err == nil {
		return k, nil
	} else if !debpkg.Absent(dir) {
		// There but damaged: a fetch could not replace it (and would
		// download the package on every call); the message says what to do.
		return nil, err
	}
	err = debpkg.Fetch(dir, name, progress, func(root, debSum string) error {
		version := strings.TrimPrefix(name, "linux-image-")
		sum, err := debpkg.FileSHA256(filepath.Join(root, "boot", "vmlinuz-"+version))
		if err != nil {
			return fmt.Errorf("unpack kernel %s: %w", name, err)
		}
		return debpkg.WriteManifest(root, manifest{Version: version, Package: name, DebSHA256: debSum, VmlinuzSHA256: sum})
	})
	if err != nil {
		return nil, err
	}
	return load(dir)
}

// resolve finds the versioned kernel package a metapackage depends on.
func resolve(pkg string) (string, error) {
	if strings.HasPrefix(pkg, "linux-image-") && strings.Count(pkg, ".") >= 2 {
		return pkg, nil
	}
	out, err := exec.Command("apt-cache", "depends", pkg).Output()
	if err != nil {
		return "", fmt.Errorf("resolve kernel package %s: apt-cache depends: %w", pkg, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if dep, ok := strings.CutPrefix(strings.TrimSpace(line), "Depends: "); ok && strings.HasPrefix(dep, "linux-image-") {
			return dep, nil
		}
	}
	return "", fmt.Errorf("resolve kernel package %s: no linux-image dependency in apt-cache's answer", pkg)
}

func load(dir string) (*Kernel, error) {
	var m manifest
	if err := debpkg.ReadManifest(dir, &m); err != nil {
		return nil, err
	}
	k := &Kernel{Version: m.Version, Package: m.Package, Dir: dir,
		Vmlinuz: filepath.Join(dir, "boot", "vmlinuz-"+m.Version),
		Modules: filepath.Join(dir, "lib", "modules", m.Version), SHA256: m.VmlinuzSHA256}
	if err := debpkg.Verify(k.Vmlinuz, m.VmlinuzSHA256, fmt.Sprintf("kernel %s in %s", m.Version, dir)); err != nil {
		return nil, err
	}
	return k, nil
}

// Local returns a kernel unpacked by hand under root, laid out as a kernel
// package is: root/boot/vmlinuz-VERSION and root/lib/modules/VERSION (a
// `dpkg -x` of a linux-image package, or a kernel built with
// INSTALL_PATH=root/boot INSTALL_MOD_PATH=root).
func Local(root string) (*Kernel, error) {
	images, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	if len(images) != 1 {
		return nil, fmt.Errorf("kernel directory %s: want exactly one boot/vmlinuz-VERSION, found %d (unpack a linux-image package into it with dpkg -x)", root, len(images))
	}
	version := strings.TrimPrefix(filepath.Base(images[0]), "vmlinuz-")
	mods := filepath.Join(root, "lib", "modules", version)
	if _, err := os.Stat(mods); err != nil {
		return nil, fmt.Errorf("kernel directory %s: modules of %s: %w", root, version, err)
	}
	sum, err := debpkg.FileSHA256(images[0])
	if err != nil {
		return nil, fmt.Errorf("kernel directory %s: %w", root, err)
	}
	return &Kernel{Version: version, Package: "local:" + root, Dir: root, Vmlinuz: images[0], Modules: mods, SHA256: sum}, nil
}
