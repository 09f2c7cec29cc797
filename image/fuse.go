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

	"github.com/keelvm/keel/image/elfdeps"
	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/image/store"
	"github.com/keelvm/keel/internal/bootcfg"
)

// Targets maps each target to the kernel modules its hardware needs: a NIC
// and, where the machine has one, the disk controller; the ACPI button and
// evdev everywhere, so that the power button reaches init. aws images also
// carry virtio-net (a few hundred KB): QEMU has no ENA, and `keel run`
// boots them with a virtio NIC; init loads virtio modules only where a
// virtio device exists.
var Targets = map[string][]string{
	"qemu":       {"virtio_pci", "virtio_net", "button", "evdev"},
	"virtualbox": {"e1000", "ahci", "button", "evdev"},
	"aws":        {"ena", "nvme", "virtio_pci", "virtio_net", "button", "evdev"},
}

// DefaultCmdline is the kernel command line of every image: the serial
// console (QEMU, VirtualBox and EC2 all have ttyS0), power off instead of
// hanging on a panic, and a quiet console (the boot log still records
// every kernel message).
const DefaultCmdline = "console=ttyS0 panic=-1 quiet"

// libDir is where the app's shared libraries go in the image: the first
// of the multiarch directories that Debian's dynamic loader searches when
// there is no ld.so.cache.
const libDir = "/lib/x86_64-linux-gnu"

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
	Disk     func(kernel, initrd, cmdline, dir string) error
	Force    bool
	Store    store.Store
	Progress io.Writer
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
	if err := f.Store.CheckNew(f.Ref, f.Force); err != nil {
		return prepared{}, err
	}
	initPart, err := initVersion(f.Init)
	if err != nil {
		return prepared{}, err
	}
	files, app, err := f.appFiles()
	if err != nil {
		return prepared{}, err
	}
	if f.Dir == "" {
		f.Dir = "/app"
	}
	if path.IsAbs(f.Dir) && !bootDir(files, path.Clean(f.Dir)) {
		return prepared{}, fmt.Errorf("working directory %s: not in the image; use /app, a directory of the app's, or /tmp", f.Dir)
	}
	cfg := bootcfg.Config{App: app.Path, Args: f.Args, Env: f.Env, Dir: f.Dir, User: f.User, Restart: f.Restart, Logs: f.Logs}
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
	modPaths, entries, err := b.WriteListed(initrd)
	if err != nil {
		return m, err
	}
	m.Modules = modPaths
	m.Config = cfg
	m.Config.Modules = modPaths
	m.Files = listing(entries)
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

// appFiles returns the initramfs entries of the app and what it needs.
func (f Fuse) appFiles() ([]initramfs.Entry, store.App, error) {
	app := store.App{Source: f.App}
	fi, err := os.Stat(f.App)
	if err != nil {
		return nil, app, fmt.Errorf("app %s: %w", f.App, err)
	}
	// The app's files belong to its user, so that it may use them; the
	// names are those of the image's /etc/passwd.
	owner := -1
	switch f.User { // checked by prepare: a uid, root or nobody
	case "", "nobody":
		owner, _ = strconv.Atoi(bootcfg.DefaultUser)
	case "root":
		owner = 0
	default:
		if uid, err := strconv.Atoi(f.User); err == nil {
			owner = uid
		}
	}
	var files []initramfs.Entry
	var exe string // host path of the executable
	switch {
	case fi.IsDir():
		if f.Entrypoint == "" {
			return nil, app, fmt.Errorf("app %s is a directory: name the program to run in it with -entrypoint (a path relative to the directory)", f.App)
		}
		// A root given as a symlink (current -> releases/v42) is its target.
		// Absolute, so that the entrypoint's resolved path can be compared
		// with it: a relative root ("." above all) and an absolute link
		// into it would otherwise look like a link out of the directory.
		abs, err := filepath.Abs(f.App)
		if err != nil {
			return nil, app, fmt.Errorf("app %s: %w", f.App, err)
		}
		root, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return nil, app, fmt.Errorf("app %s: %w", f.App, err)
		}
		rel := path.Clean("/" + filepath.ToSlash(f.Entrypoint))
		exe = filepath.Join(root, filepath.FromSlash(rel))
		efi, err := os.Stat(exe)
		if err != nil {
			return nil, app, fmt.Errorf("entrypoint %s: %w", f.Entrypoint, err)
		}
		// Said plainly: read as a program, a directory fails with "is a
		// directory" twice over, and "." would pass for a link out of it.
		if efi.IsDir() {
			return nil, app, fmt.Errorf("entrypoint %s is a directory: name the program to run, relative to %s (for example bin/server)", f.Entrypoint, f.App)
		}
		// What the image runs must be in the image: an entrypoint that
		// is a link out of the directory would dangle there.
		if real, err := filepath.EvalSymlinks(exe); err != nil || !strings.HasPrefix(real, root+string(filepath.Separator)) {
			return nil, app, fmt.Errorf("entrypoint %s is a link to %s, outside %s: the image holds only the directory; copy the program into it", f.Entrypoint, real, f.App)
		}
		if efi.Mode()&0o111 == 0 {
			return nil, app, fmt.Errorf("entrypoint %s is not executable: chmod +x it", exe)
		}
		app.Kind, app.Path = "directory", "/app"+rel
		files, err = treeFiles(root, "/app", owner, abs)
		if err != nil {
			return nil, app, err
		}
	case fi.Mode().IsRegular():
		if f.Entrypoint != "" {
			return nil, app, fmt.Errorf("-entrypoint is for a directory app, and %s is a file", f.App)
		}
		exe = f.App
		app.Path = "/app/" + filepath.Base(f.App)
		files = []initramfs.Entry{{Path: app.Path, Kind: initramfs.File, Mode: 0o755, Source: f.App}}
	default:
		return nil, app, fmt.Errorf("app %s is neither a file nor a directory", f.App)
	}
	info, err := elfdeps.Inspect(exe)
	if err != nil {
		return nil, app, err
	}
	app.Kind = map[bool]string{true: "static", false: "dynamic"}[info.Static] + map[bool]string{true: " in a directory", false: ""}[fi.IsDir()]
	if !info.Static {
		present := map[string]bool{}
		for _, e := range files {
			present[e.Path] = true
		}
		add := func(guest, host string) {
			if !present[guest] {
				present[guest] = true
				files = append(files, initramfs.Entry{Path: guest, Kind: initramfs.File, Mode: 0o755, Source: host})
			}
		}
		add(info.Interp, info.InterpHost)
		// The image has no ld.so.cache: every library goes to a directory
		// the loader searches by default, whatever RUNPATH or
		// ld.so.conf found it through on this host.
		for _, l := range info.Libs {
			guest := libDir + "/" + l.Name
			add(guest, l.Path)
			app.Libs = append(app.Libs, guest)
		}
	}
	if f.Certs == "yes" || (f.Certs == "auto" && info.TLS) {
		if _, err := os.Stat(f.CABundle); err != nil {
			return nil, app, fmt.Errorf("the app makes TLS connections and needs CA certificates, but %s is missing: install the Debian package ca-certificates, or fuse with -certs=no", f.CABundle)
		}
		files = append(files, initramfs.Entry{Path: HostCABundle, Kind: initramfs.File, Mode: 0o644, Source: f.CABundle})
		app.Certs = true
	}
	// Programs that look up their user (os/user, getpwuid) find one.
	files = append(files,
		initramfs.Entry{Path: "/etc/passwd", Kind: initramfs.File, Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		initramfs.Entry{Path: "/etc/group", Kind: initramfs.File, Mode: 0o644, Data: []byte("root:x:0:\nnogroup:x:65534:\n")},
	)
	return files, app, nil
}

// treeFiles copies a directory tree to prefix, keeping modes and symlinks.
//
// An absolute symlink into the tree (root, or one of aliases: the paths the
// user knows it by) is pointed at the same file under prefix: as it was, it
// would name a host path the image does not have. Other absolute links are
// kept: they may name what the image has (/etc/ssl/certs).
func treeFiles(root, prefix string, owner int, aliases ...string) ([]initramfs.Entry, error) {
	var out []initramfs.Entry
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read app directory: %w", err)
		}
		rel, _ := filepath.Rel(root, p)
		guest := path.Join(prefix, filepath.ToSlash(rel))
		fi, err := d.Info()
		if err != nil {
			return fmt.Errorf("read app directory: %w", err)
		}
		e := initramfs.Entry{Path: guest, Mode: unixMode(fi.Mode())}
		if owner >= 0 {
			e.UID, e.GID = owner, owner
		}
		switch {
		case fi.Mode().IsDir():
			e.Kind = initramfs.Dir
		case fi.Mode().IsRegular():
			e.Kind, e.Source = initramfs.File, p
		case fi.Mode()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return fmt.Errorf("read app directory: %w", err)
			}
			e.Kind, e.Data = initramfs.Symlink, []byte(intoTree(t, prefix, append([]string{root}, aliases...)))
		default:
			return fmt.Errorf("app directory: %s is a %v, which an image cannot hold: remove it", p, fi.Mode().Type())
		}
		if guest == prefix {
			e.Mode = 0o755
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// intoTree maps an absolute link target inside one of roots to the same
// path under prefix; anything else is returned as it is.
func intoTree(target, prefix string, roots []string) string {
	if !filepath.IsAbs(target) {
		return target
	}
	clean := filepath.Clean(target)
	for _, r := range roots {
		if r == "" {
			continue
		}
		if rel, err := filepath.Rel(filepath.Clean(r), clean); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return path.Join(prefix, filepath.ToSlash(rel))
		}
	}
	return target
}

// listing turns the archive's entries as written into manifest records.
func listing(entries []initramfs.Written) []store.File {
	out := make([]store.File, 0, len(entries))
	for _, e := range entries {
		rec := store.File{Path: e.Path, Mode: fmt.Sprintf("%04o %s", e.Mode, kindName(e.Kind)), Size: e.Size, SHA256: e.SHA256}
		if e.Kind == initramfs.CharDev {
			rec.Mode += fmt.Sprintf(" %d,%d", e.Major, e.Minor)
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
