// Package efi provides the UEFI boot manager keel's disk images boot
// through: systemd-boot from Debian's systemd-boot-efi package, fetched with
// `apt-get download`, unpacked with `dpkg -x` and cached under keel's state
// directory, as package kernel does for the kernel. apt verifies the package
// against the signed archive index; the cache records the binary's SHA-256
// and checks it on every use. Nothing is fetched from anywhere but the
// host's apt sources.
//
// It knows where the boot manager is, not how a disk is laid out (package
// disk writes the image).
package efi

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/keelvm/keel/debpkg"
)

// Package is the Debian package that ships systemd-boot.
const Package = "systemd-boot-efi"

// binary is systemd-boot's path inside the package.
const binary = "usr/lib/systemd/boot/efi/systemd-bootx64.efi"

// Loader is an unpacked systemd-boot in the cache.
type Loader struct {
	Version string // Debian version of the package, e.g. 252.39-1~deb12u2
	Dir     string // cache directory of this version
	Path    string // systemd-bootx64.efi
	SHA256  string // of Path
}

type manifest struct {
	Package, Version, DebSHA256, EFISHA256 string
}

// Ensure returns systemd-boot from cache, fetching and unpacking the
// candidate version of Package first when it is missing. progress, if set,
// receives what is happening.
func Ensure(cache string, progress io.Writer) (*Loader, error) {
	if progress == nil {
		progress = io.Discard
	}
	version, err := candidate()
	if err != nil {
		return nil, err
	}
	// A Debian version may hold ':' (an epoch); keep it out of paths.
	dir := filepath.Join(cache, Package+"_"+strings.ReplaceAll(version, ":", "%3a"))
	if l, err := load(dir); err == nil {
		return l, nil
	} else if !debpkg.Absent(dir) {
		// There but damaged (its binary gone too, though that error is
		// also "not exist"): a fetch could not replace it and would
		// download the package on every call; the message says what to do.
		return nil, err
	}
	err = debpkg.Fetch(dir, Package+"="+version, progress, func(root, debSum string) error {
		sum, err := debpkg.FileSHA256(filepath.Join(root, binary))
		if err != nil {
			return fmt.Errorf("unpack %s %s: %w", Package, version, err)
		}
		return debpkg.WriteManifest(root, manifest{Package: Package, Version: version, DebSHA256: debSum, EFISHA256: sum})
	})
	if err != nil {
		return nil, err
	}
	return load(dir)
}

// candidate asks apt (locally, from its package lists) which version of
// Package it would fetch.
func candidate() (string, error) {
	out, err := exec.Command("apt-cache", "show", "--no-all-versions", Package).Output()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("resolve %s: apt-cache is needed (a Debian or Ubuntu host)", Package)
		}
		return "", fmt.Errorf("resolve %s: apt-cache show: %w (run 'apt-get update' if the package is unknown)", Package, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "Version: "); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("resolve %s: no Version in apt-cache's answer", Package)
}

func load(dir string) (*Loader, error) {
	var m manifest
	if err := debpkg.ReadManifest(dir, &m); err != nil {
		return nil, err
	}
	l := &Loader{Version: m.Version, Dir: dir, Path: filepath.Join(dir, binary), SHA256: m.EFISHA256}
	if err := debpkg.Verify(l.Path, m.EFISHA256, fmt.Sprintf("%s %s in %s", Package, m.Version, dir)); err != nil {
		return nil, err
	}
	return l, nil
}
