package image

import (
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/image/store"
)

// Targets maps each target to the kernel modules its hardware needs: a NIC
// and, where the machine has one, the disk controller; the ACPI button and
// evdev everywhere, so that the power button reaches init. aws images also
// carry virtio-net (a few hundred KB): QEMU has no ENA, and `keel run`
// boots them with a virtio NIC; init loads virtio modules only where a
// virtio device exists.
var Targets = map[string][]string{
	"qemu":       {"virtio_pci", "virtio_net", "virtio_rng", "button", "evdev"},
	"virtualbox": {"e1000", "ahci", "button", "evdev"},
	"aws":        {"ena", "nvme", "virtio_pci", "virtio_net", "button", "evdev"},
}

// DefaultCmdline is the kernel command line of every image: the serial
// console (QEMU, VirtualBox and EC2 all have ttyS0), power off instead of
// hanging on a panic, and a quiet console (the boot log still records
// every kernel message).
const DefaultCmdline = "console=ttyS0 panic=-1 quiet"

// HostCABundle is where Debian-like hosts keep the CA certificates; Go's
// crypto/x509 and OpenSSL look for it at the same path in the image.
const HostCABundle = "/etc/ssl/certs/ca-certificates.crt"

// Fuse describes an image to fuse.
type Fuse struct {
	App        string // host path: an ELF executable, or a directory with Entrypoint
	Entrypoint string // with a directory App: the executable, relative to it
	Ref        store.Ref
	Args, Env  []string
	Dir        string // working directory in the image (default /app)
	User       string
	Restart    string
	Logs       *bootcfg.Logs // nil: console only
	Target     string        // qemu (default), virtualbox or aws
	Init       string        // host path of keel's init binary
	Kernel     *kernel.Kernel
	Certs      string // auto (default), yes or no
	// Credentials, if set, is a shared-credentials file (a scoped key of
	// `keel logserver key create`) put into the image root-only at
	// bootcfg.DefaultCredentials: for hypervisors without IMDS
	// (VirtualBox). Nothing else puts a key into an image.
	Credentials []byte
	CABundle    string // default HostCABundle
	// Disk writes the disk images of targets that boot from one; nil
	// writes none.
	Disk  func(kernel, initrd, cmdline, dir string) error
	Force bool
	// AppDisk says where the app goes: auto (default: on an app disk
	// when its files pass AppDiskThreshold and the target has one), yes
	// or no (the initramfs).
	AppDisk string
	// MemoryMB is the app's own memory need; 0: the default of its runtime.
	MemoryMB int
	Store    store.Store
	Progress io.Writer
	// Verbose lists on Progress every file added from the host.
	Verbose bool
	// JRE is the Java runtime of a JAR app: a directory copied whole;
	// empty: one made with the host JDK's jlink.
	JRE string
	// Runtimes caches the runtimes jlink makes (keel: $KEEL_HOME/runtimes);
	// empty: a directory under the user's cache directory.
	Runtimes string
	checking bool // Check, before Write: the listing and notes wait for Write
}

// prepared is what Write needs besides the kernel, checked.
type prepared struct {
	f     Fuse // with defaults filled in
	files []initramfs.Entry
	app   store.App
	cfg   bootcfg.Config
	mods  []string
	init  store.Part
}

// Check makes every check of Write that needs no kernel: the target, the
// app and its libraries, the configuration, the name. keel fuse runs it
// before fetching a kernel, so that a mistake is reported in a moment and
// not after a download.
func (f Fuse) Check() error {
	f.checking = true // Write says it all again
	_, err := f.prepare()
	return err
}

func (f Fuse) prepare() (prepared, error) {
	if f.Progress == nil {
		f.Progress = io.Discard
	}
	if f.Target == "" {
		f.Target = "qemu"
	}
	mods, ok := Targets[f.Target]
	if !ok {
		return prepared{}, fmt.Errorf("target %q: use qemu, virtualbox or aws", f.Target)
	}
	if f.Certs == "" {
		f.Certs = "auto"
	}
	if !slices.Contains([]string{"auto", "yes", "no"}, f.Certs) {
		return prepared{}, fmt.Errorf("certs %q: use auto, yes or no", f.Certs)
	}
	if f.CABundle == "" {
		f.CABundle = HostCABundle
	}
	if err := f.checkPlace(); err != nil {
		return prepared{}, err
	}
	if err := f.Store.CheckNew(f.Ref, f.Force); err != nil {
		return prepared{}, err
	}
	initPart, err := initVersion(f.Init)
	if err != nil {
		return prepared{}, err
	}
	files, app, lead, err := f.appFiles()
	if err != nil {
		return prepared{}, err
	}
	if f.Dir == "" {
		f.Dir = "/app"
	}
	if path.IsAbs(f.Dir) && !bootDir(files, path.Clean(f.Dir)) {
		return prepared{}, fmt.Errorf("working directory %s: not in the image; use /app, a directory of the app's, or /tmp", f.Dir)
	}
	cfg := bootcfg.Config{App: app.Path, Args: append(lead, f.Args...), Env: f.Env, Dir: f.Dir, User: f.User, Restart: f.Restart, Logs: f.Logs}
	// The init checks its configuration at boot and powers off on a
	// mistake: check it now, where the mistake can be fixed.
	if _, err := bootcfg.Load(cfg.Marshal(), ""); err != nil {
		return prepared{}, fmt.Errorf("image configuration: %w", err)
	}
	if !isUID(f.User) && f.User != "" && f.User != "root" && f.User != "nobody" {
		return prepared{}, fmt.Errorf("user %q: the image's /etc/passwd has only root and nobody; give a numeric uid (0 to 4294967294)", f.User)
	}
	return prepared{f: f, files: files, app: app, cfg: cfg, mods: mods, init: initPart}, nil
}

// isUID reports whether s is a uid init can switch to: what setuid(2)
// takes, digits only (strconv.Atoi would also take "-1" and "+5", which
// init refuses at boot, and uids over 32 bits, which the initramfs would
// record wrapped), and not 4294967295, which is (uid_t)-1.
func isUID(s string) bool {
	n, err := strconv.ParseUint(s, 10, 32)
	return err == nil && n != 1<<32-1
}

// Write fuses the image into the store and returns its manifest. Nothing
// half-written is left behind on failure.
func (f Fuse) Write() (store.Manifest, error) {
	t0 := time.Now()
	if f.Kernel == nil {
		return store.Manifest{}, errors.New("fuse: no kernel")
	}
	p, err := f.prepare()
	if err != nil {
		return store.Manifest{}, err
	}
	f = p.f
	files, app, cfg, mods := p.files, p.app, p.cfg, p.mods
	m := store.Manifest{Name: f.Ref.String(), Target: f.Target, App: app, Init: p.init, Cmdline: DefaultCmdline,
		Kernel: store.Part{Version: f.Kernel.Version, Package: f.Kernel.Package, SHA256: f.Kernel.SHA256}}

	st, err := f.Store.Begin(f.Ref, f.Force)
	if err != nil {
		return m, err
	}
	ok := false
	defer func() {
		if !ok {
			st.Abort()
		}
	}()
	fmt.Fprintf(f.Progress, "  kernel   %s\n", f.Kernel.Version)
	if err := copyFile(f.Kernel.Vmlinuz, filepath.Join(st.Dir, "vmlinuz")); err != nil {
		return m, err
	}
	initrd := filepath.Join(st.Dir, "initrd.img")
	if f.Credentials != nil {
		files = append(files, initramfs.Entry{Path: bootcfg.DefaultCredentials, Kind: initramfs.File, Mode: 0o600, Data: f.Credentials})
	}
	b := Build{Init: f.Init, Kernel: f.Kernel, Modules: mods, Config: cfg, Files: files}
	useDisk, err := f.useAppDisk(files)
	if err != nil {
		return m, err
	}
	if useDisk {
		md, cd, ram, err := f.writeAppDisk(st.Dir, files)
		if err != nil {
			return m, err
		}
		m.AppDisk, b.Config.AppDisk, b.Files, b.DiskModules = md, cd, ram, diskModules[f.Target]
		fmt.Fprintf(f.Progress, "  app disk %s (%s, %d files, %s uncompressed)\n", mb(md.Size), md.FS, len(md.Files), mb(md.Bytes))
	}
	written, modPaths, entries, err := b.write(initrd)
	if err != nil {
		return m, err
	}
	m.Modules = modPaths
	m.Config = written
	m.Files = listing(entries)
	m.Memory = f.memoryNeed(initrd, entries, written.AppDisk, app.Runtime)
	if fi, err := os.Stat(initrd); err == nil {
		fmt.Fprintf(f.Progress, "  initrd   %s (%d files, %d modules)\n", mb(fi.Size()), len(entries), len(modPaths))
	}
	if f.Disk != nil && f.Target != "qemu" {
		if err := f.Disk(filepath.Join(st.Dir, "vmlinuz"), initrd, m.Cmdline, st.Dir); err != nil {
			return m, err
		}
	}
	if err := st.Commit(&m); err != nil {
		return m, err
	}
	ok = true
	fmt.Fprintf(f.Progress, "Fused %s in %s: %s\n", f.Ref, time.Since(t0).Round(10*time.Millisecond), f.Store.Path(f.Ref))
	return m, nil
}

// listing turns the archive's entries as written into manifest records.
func listing(entries []initramfs.Written) []store.File {
	out := make([]store.File, 0, len(entries))
	for _, e := range entries {
		rec := store.File{Path: e.Path, Mode: fmt.Sprintf("%04o %s", e.Mode, kindName(e.Kind)), Size: e.Size, SHA256: e.SHA256}
		if e.Kind == initramfs.CharDev {
			rec.Mode += fmt.Sprintf(" %d,%d", e.Major, e.Minor)
		}
		if e.Link != "" {
			rec.Mode = fmt.Sprintf("%04o hardlink %s", e.Mode, e.Link)
		}
		out = append(out, rec)
	}
	return out
}

func kindName(k initramfs.Kind) string {
	return map[initramfs.Kind]string{initramfs.File: "file", initramfs.Dir: "dir", initramfs.Symlink: "symlink", initramfs.CharDev: "chardev"}[k]
}

// initVersion identifies keel's init binary by its build and checksum.
func initVersion(p string) (store.Part, error) {
	_, sum, err := store.Checksum(p)
	if err != nil {
		return store.Part{}, fmt.Errorf("keel's init binary %s: %w (build it with 'make build', or give -init PATH)", p, err)
	}
	bi, err := buildinfo.ReadFile(p)
	if err != nil {
		return store.Part{}, fmt.Errorf("keel's init binary %s is not a Go program: %w", p, err)
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if len(s.Value) > 12 {
				s.Value = s.Value[:12]
			}
			v += "+" + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				v += "-dirty"
			}
		}
	}
	return store.Part{Version: v, SHA256: sum}, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return out.Close()
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// unixMode is the permission bits of m with setuid, setgid and sticky,
// which fs.FileMode keeps apart from Perm.
func unixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}

// bootDir reports whether dir exists when the app starts: a directory of
// the app's files (or one above them), or one init mounts.
func bootDir(files []initramfs.Entry, dir string) bool {
	switch dir {
	case "/", "/tmp", "/run", "/dev", "/dev/shm", "/proc", "/sys", "/etc":
		return true
	}
	for _, e := range files {
		if e.Path == dir && e.Kind == initramfs.Dir || strings.HasPrefix(e.Path, dir+"/") {
			return true
		}
	}
	return false
}
