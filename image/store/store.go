// Package store keeps fused images on disk: one directory per
// user/app:version under keel's home (~/.keel/images/USER/APP/VERSION),
// holding the artifacts and a manifest that describes and checksums them.
//
// An image appears whole or not at all: it is written into a temporary
// directory beside its final place and renamed into it. The store knows
// names, places and manifests, not how images are built.
package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/internal/fsutil"
)

// ManifestFile is the name of the manifest in an image directory.
const ManifestFile = "manifest.json"

// Ref names an image: user/app:version.
type Ref struct{ User, App, Version string }

var (
	namePart    = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	versionPart = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,62}$`)
)

// ParseRef reads "user/app:version".
func ParseRef(s string) (Ref, error) {
	bad := func(why string) (Ref, error) {
		return Ref{}, fmt.Errorf("image name %q: %s; write user/app:version, for example alice/hello:1.0", s, why)
	}
	ua, version, ok := strings.Cut(s, ":")
	if !ok {
		return bad("no :version")
	}
	user, app, ok := strings.Cut(ua, "/")
	switch {
	case !ok:
		return bad("no user/ part")
	case !namePart.MatchString(user):
		return bad(fmt.Sprintf("user %q must be lower-case letters, digits, '.', '_' or '-'", user))
	case !namePart.MatchString(app):
		return bad(fmt.Sprintf("app %q must be lower-case letters, digits, '.', '_' or '-'", app))
	case !versionPart.MatchString(version):
		return bad(fmt.Sprintf("version %q must be letters, digits, '.', '_', '+' or '-'", version))
	}
	return Ref{user, app, version}, nil
}

func (r Ref) String() string { return r.User + "/" + r.App + ":" + r.Version }

// Stream is the log stream of the app: user/app.
func (r Ref) Stream() string { return r.User + "/" + r.App }

// Manifest describes an image.
type Manifest struct {
	Name   string `json:"name"`
	Target string `json:"target"` // qemu, virtualbox or aws
	App    App    `json:"app"`
	Init   Part   `json:"init"`
	Kernel Part   `json:"kernel"`
	// Modules are the kernel modules in the initramfs, in load order.
	Modules []string       `json:"modules"`
	Cmdline string         `json:"cmdline"`
	Config  bootcfg.Config `json:"config"`
	// Files lists the initramfs, entry by entry.
	Files []File `json:"files"`
	// Artifacts are the files of the image directory, manifest excepted.
	Artifacts []Artifact `json:"artifacts"`
	// AppDisk describes the app disk (artifact app.img), when the app is
	// on one rather than in the initramfs.
	AppDisk *AppDisk `json:"app_disk,omitempty"`
	// Memory is what the image needs to boot and run its app.
	Memory *Memory `json:"memory,omitempty"`
}

// AppDisk is the app's read-only filesystem image.
type AppDisk struct {
	Artifact string `json:"artifact"` // app.img
	FS       string `json:"fs"`       // squashfs
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	// Bytes is the uncompressed size of its files.
	Bytes int64  `json:"bytes"`
	Files []File `json:"files"`
}

// Memory is the image's memory need in MB, and its parts.
type Memory struct {
	MinMB int `json:"min_mb"` // keel run refuses less
	// The parts: the kernel and init, the initramfs (compressed, and
	// unpacked into RAM), the tmpfs overlays at their bound, the app.
	KernelMB    int `json:"kernel_mb"`
	InitramfsMB int `json:"initramfs_mb"`
	OverlayMB   int `json:"overlay_mb"`
	AppMB       int `json:"app_mb"`
}

// App says what was fused.
type App struct {
	Source string   `json:"source"` // host path given to fuse
	Kind   string   `json:"kind"`   // static, dynamic or directory
	Path   string   `json:"path"`   // in the image
	Libs   []string `json:"libs,omitempty"`
	Certs  bool     `json:"certs"` // CA certificates added
	// Runtime is what runs the app: java, python, node, shell, or empty
	// (a program of its own); keel run sets memory defaults by it.
	Runtime string `json:"runtime,omitempty"`
}

// Part identifies a component by version and checksum.
type Part struct {
	Version string `json:"version"`
	Package string `json:"package,omitempty"`
	SHA256  string `json:"sha256"`
}

// File is one initramfs entry.
type File struct {
	Path   string `json:"path"`
	Mode   string `json:"mode"` // e.g. "0755 file", "0755 dir"
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// Artifact is one output file.
type Artifact struct {
	Name   string `json:"name"` // vmlinuz, initrd.img, disk.raw, disk.vmdk, disk.vdi
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Store is a directory of images.
type Store struct{ Dir string }

// Path is the directory of an image.
func (s Store) Path(r Ref) string { return filepath.Join(s.Dir, r.User, r.App, r.Version) }

// ErrNotFound is returned by Load for an image that was never fused.
var ErrNotFound = errors.New("image not found")

// Load reads an image's manifest.
func (s Store) Load(r Ref) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(s.Path(r), ManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		hint := ""
		if have := s.List(); len(have) > 0 {
			hint = fmt.Sprintf(" (there are: %s)", strings.Join(have, ", "))
		}
		return m, fmt.Errorf("image %s is not in %s%s: fuse it first with 'keel fuse APP -name %s': %w", r, s.Dir, hint, r, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("read manifest of %s: %w", r, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("read manifest of %s (%s): %w; fuse it again with -force", r, filepath.Join(s.Path(r), ManifestFile), err)
	}
	return m, nil
}

// Verify checks artifacts against the manifest's size and checksum: the
// named ones, or every one when none is named.
func (s Store) Verify(r Ref, m Manifest, names ...string) error {
	for _, a := range m.Artifacts {
		if len(names) > 0 && !slices.Contains(names, a.Name) {
			continue
		}
		p := filepath.Join(s.Path(r), a.Name)
		size, sum, err := Checksum(p)
		if err != nil {
			return fmt.Errorf("verify image %s: %w", r, err)
		}
		if size != a.Size || sum != a.SHA256 {
			return fmt.Errorf("verify image %s: %s has changed since it was fused (sha256 %s, manifest says %s): fuse it again with -force", r, p, sum, a.SHA256)
		}
	}
	return nil
}

// List returns the images in the store as user/app:version, sorted.
func (s Store) List() []string {
	ms, _ := filepath.Glob(filepath.Join(s.Dir, "*", "*", "*", ManifestFile))
	var out []string
	for _, m := range ms {
		v := filepath.Dir(m)
		if strings.HasPrefix(filepath.Base(v), ".") { // being written or replaced
			continue
		}
		a := filepath.Dir(v)
		out = append(out, filepath.Base(filepath.Dir(a))+"/"+filepath.Base(a)+":"+filepath.Base(v))
	}
	sort.Strings(out)
	return out
}

// Staging is an image being written.
type Staging struct {
	Dir   string // write artifacts here
	ref   Ref
	store Store
	force bool
}

// staging holds the images being written, for AbortAll.
var staging fsutil.Staged

// AbortAll removes every image being written by this process, and says
// how many there were: for a program stopped by a signal, which runs no
// deferred Abort. An image being moved into place is finished first.
func AbortAll() int { return staging.RemoveAll() }

// CheckNew says whether image r may be written: it must not exist yet,
// unless force.
func (s Store) CheckNew(r Ref, force bool) error {
	if _, err := os.Stat(s.Path(r)); err == nil && !force {
		return fmt.Errorf("image %s already exists in %s: give it a new version, or replace it with -force", r, s.Path(r))
	}
	return nil
}

// Begin starts writing image r. An existing image is an error unless force.
func (s Store) Begin(r Ref, force bool) (*Staging, error) {
	if err := s.CheckNew(r, force); err != nil {
		return nil, err
	}
	final := s.Path(r)
	// Images hold the app's environment (secrets, often) and, with
	// keel run, nothing for other users: the store is private.
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, fmt.Errorf("create image directory %s: %w", parent, err)
	}
	// Owned: a later fuse removes this one's if this process is killed
	// outright.
	tmp, err := fsutil.MkdirOwned(parent, "."+r.Version+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("create image directory in %s: %w", parent, err)
	}
	staging.Add(tmp)
	return &Staging{Dir: tmp, ref: r, store: s, force: force}, nil
}

// Abort removes what was written.
func (st *Staging) Abort() {
	staging.Done(st.Dir)
	os.RemoveAll(st.Dir)
}

// Commit checksums the artifacts into m, writes the manifest and moves the
// image into place, replacing an older one.
func (st *Staging) Commit(m *Manifest) error {
	ents, err := os.ReadDir(st.Dir)
	if err != nil {
		return fmt.Errorf("list staged image %s: %w", st.Dir, err)
	}
	m.Artifacts = nil
	for _, e := range ents {
		if e.Name() == ManifestFile {
			continue
		}
		p := filepath.Join(st.Dir, e.Name())
		size, sum, err := Checksum(p)
		if err != nil {
			return err
		}
		if err := syncFile(p); err != nil {
			return err
		}
		m.Artifacts = append(m.Artifacts, Artifact{Name: e.Name(), Size: size, SHA256: sum})
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest of %s: %w", st.ref, err)
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(st.Dir, ManifestFile), append(b, '\n'), 0o644); err != nil {
		return err
	}
	final := st.store.Path(st.ref)
	if err := staging.Install(st.Dir, func() error { return st.install(final) }); err != nil {
		return err
	}
	return fsutil.SyncDir(filepath.Dir(final))
}

// install moves the staged image to final, replacing an older one; never
// at the same time as AbortAll.
func (st *Staging) install(final string) error {
	old := ""
	if _, err := os.Stat(final); err == nil {
		// Another fuse of the same version finished meanwhile.
		if !st.force {
			return fmt.Errorf("image %s already exists in %s: give it a new version, or replace it with -force", st.ref, final)
		}
		old = st.Dir + ".old"
		if err := os.Rename(final, old); err != nil {
			return fmt.Errorf("replace image %s: %w", final, err)
		}
	}
	if err := os.Rename(st.Dir, final); err != nil {
		if old != "" {
			os.Rename(old, final)
		}
		return fmt.Errorf("move image into %s: %w", final, err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

// Checksum returns a file's size and SHA-256 in hex.
func Checksum(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", fmt.Errorf("checksum %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("checksum %s: %w", path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// SumBytes returns the SHA-256 of b in hex.
func SumBytes(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
