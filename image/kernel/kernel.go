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
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	}
	for _, tool := range []string{"apt-get", "dpkg"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("fetch kernel %s: %s is needed (a Debian or Ubuntu host), or give a kernel with -kernel PATH", name, tool)
		}
	}
	tmp, err := os.MkdirTemp(cache+"-tmp", "fetch-")
	if errors.Is(err, os.ErrNotExist) {
		if err = os.MkdirAll(cache+"-tmp", 0o755); err == nil {
			tmp, err = os.MkdirTemp(cache+"-tmp", "fetch-")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("fetch kernel %s: %w", name, err)
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(progress, "fetching kernel package %s with apt-get download\n", name)
	cmd := exec.Command("apt-get", "download", name)
	cmd.Dir = tmp
	cmd.Stdout, cmd.Stderr = progress, progress
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("fetch kernel %s: apt-get download: %w (run 'apt-get update' if the package is unknown)", name, err)
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, name+"_*.deb"))
	if len(debs) != 1 {
		return nil, fmt.Errorf("fetch kernel %s: apt-get download left %d .deb files", name, len(debs))
	}
	debSum, err := fileSHA256(debs[0])
	if err != nil {
		return nil, err
	}
	root := filepath.Join(tmp, "root")
	fmt.Fprintf(progress, "unpacking %s\n", filepath.Base(debs[0]))
	if out, err := exec.Command("dpkg", "-x", debs[0], root).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("unpack kernel %s: dpkg -x: %w: %s", name, err, bytes.TrimSpace(out))
	}
	version := strings.TrimPrefix(name, "linux-image-")
	vmlinuz := filepath.Join(root, "boot", "vmlinuz-"+version)
	sum, err := fileSHA256(vmlinuz)
	if err != nil {
		return nil, fmt.Errorf("unpack kernel %s: %w", name, err)
	}
	m := manifest{Version: version, Package: name, DebSHA256: debSum, VmlinuzSHA256: sum}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(root, "manifest.json"), b, 0o644); err != nil {
		return nil, err
	}
	// Whole or not at all: a concurrent fetch of the same kernel may
	// have won; its copy is as good.
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(root, dir); err != nil && !errors.Is(err, os.ErrExist) && !isNotEmpty(err) {
		return nil, fmt.Errorf("install kernel %s in %s: %w", name, dir, err)
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
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	k := &Kernel{Version: m.Version, Package: m.Package, Dir: dir,
		Vmlinuz: filepath.Join(dir, "boot", "vmlinuz-"+m.Version),
		Modules: filepath.Join(dir, "lib", "modules", m.Version), SHA256: m.VmlinuzSHA256}
	sum, err := fileSHA256(k.Vmlinuz)
	if err != nil {
		return nil, err
	}
	if sum != m.VmlinuzSHA256 {
		return nil, fmt.Errorf("kernel %s in %s is damaged (sha256 %s, recorded %s): delete the directory to fetch it again", m.Version, dir, sum, m.VmlinuzSHA256)
	}
	return k, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func isNotEmpty(err error) bool {
	var le *os.LinkError
	return errors.As(err, &le) && strings.Contains(le.Err.Error(), "not empty")
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
	sum, err := fileSHA256(images[0])
	if err != nil {
		return nil, fmt.Errorf("kernel directory %s: %w", root, err)
	}
	return &Kernel{Version: version, Package: "local:" + root, Dir: root, Vmlinuz: images[0], Modules: mods, SHA256: sum}, nil
}
