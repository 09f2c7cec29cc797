// Package debpkg fetches Debian packages into keel's caches the one way
// keel may: `apt-get download` (apt verifies the package against the
// signed archive index), unpacked with `dpkg -x`, installed whole or not at
// all. It knows how to fetch and unpack a package, not what is in it: the
// caller checks the unpacked files and records what it needs.
package debpkg

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

	"github.com/keelvm/keel/internal/fsutil"
)

// Fetch downloads spec (a package name, or name=version) and unpacks it
// into dir. Before dir appears, finish is called with the unpacked tree and
// the .deb's SHA-256, to check the tree and write the caller's manifest
// into it. If another fetch of the same package installed dir meanwhile,
// that copy is kept: it is as good.
func Fetch(dir, spec string, progress io.Writer, finish func(root, debSHA256 string) error) error {
	if progress == nil {
		progress = io.Discard
	}
	name, _, _ := strings.Cut(spec, "=")
	for _, tool := range []string{"apt-get", "dpkg"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("fetch %s: %s is needed (a Debian or Ubuntu host)", spec, tool)
		}
	}
	// Staging beside the cache, on the same filesystem, for the rename.
	staging := filepath.Dir(dir) + "-tmp"
	for _, d := range []string{filepath.Dir(dir), staging} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("fetch %s: %w", spec, err)
		}
	}
	// Owned: a later fetch removes this one's if this process is killed
	// outright (a kernel's staging is about 70 MB).
	tmp, err := fsutil.MkdirOwned(staging, "fetch-")
	if err != nil {
		return fmt.Errorf("fetch %s: %w", spec, err)
	}
	fetching.Add(tmp)
	defer func() {
		os.RemoveAll(tmp)
		fetching.Done(tmp)
	}()
	fmt.Fprintf(progress, "fetching %s with apt-get download\n", spec)
	cmd := exec.Command("apt-get", "download", spec)
	cmd.Dir = tmp
	cmd.Stdout, cmd.Stderr = progress, progress
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("fetch %s: apt-get download: %w (run 'apt-get update' if the package is unknown)", spec, err)
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, name+"_*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("fetch %s: apt-get download left %d .deb files", spec, len(debs))
	}
	debSum, err := FileSHA256(debs[0])
	if err != nil {
		return fmt.Errorf("fetch %s: %w", spec, err)
	}
	root := filepath.Join(tmp, "root")
	fmt.Fprintf(progress, "unpacking %s\n", filepath.Base(debs[0]))
	if out, err := exec.Command("dpkg", "-x", debs[0], root).CombinedOutput(); err != nil {
		return fmt.Errorf("unpack %s: dpkg -x: %w: %s", spec, err, bytes.TrimSpace(out))
	}
	if err := finish(root, debSum); err != nil {
		return err
	}
	return fetching.Install(tmp, func() error {
		if err := os.Rename(root, dir); err != nil && !errors.Is(err, os.ErrExist) && !isNotEmpty(err) {
			return fmt.Errorf("install %s in %s: %w", spec, dir, err)
		}
		return nil
	})
}

// fetching holds the staging directories of the fetches under way, for
// AbortAll.
var fetching fsutil.Staged

// AbortAll removes the staging directories of every fetch under way in
// this process: for a program stopped by a signal, which runs no deferred
// cleanup. A download half done is lost; the cache is untouched.
func AbortAll() int { return fetching.RemoveAll() }

// FileSHA256 returns the SHA-256 of a file in hex.
func FileSHA256(path string) (string, error) {
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

// ManifestFile is where a cache entry records what it holds.
const ManifestFile = "manifest.json"

// WriteManifest records m (the caller's own record) in an unpacked tree;
// call it from Fetch's finish.
func WriteManifest(root string, m any) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, ManifestFile), b, 0o644)
}

// Absent reports whether a cache entry's directory is missing: then the
// caller fetches it. One that is there but does not load is damaged, and
// fetching could not replace it: the caller reports its load error.
func Absent(dir string) bool {
	_, err := os.Stat(dir)
	return errors.Is(err, os.ErrNotExist)
}

// ReadManifest reads the record of a cache entry into m; a missing entry
// is an error satisfying errors.Is(err, fs.ErrNotExist).
func ReadManifest(dir string, m any) error {
	p := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(p)
	if err != nil {
		// Said for an entry that is there (see Absent); only a hand's
		// partial delete leaves one without its manifest.
		return fmt.Errorf("cache entry %s is incomplete (%w): delete the directory to fetch it again", dir, err)
	}
	if err := json.Unmarshal(b, m); err != nil {
		return fmt.Errorf("cache entry %s is damaged (read %s: %v): delete the directory to fetch it again", dir, p, err)
	}
	return nil
}

// Verify checks that path still has the SHA-256 its cache entry recorded;
// what names the entry in the error, which says how to repair it.
func Verify(path, want, what string) error {
	sum, err := FileSHA256(path)
	if err != nil {
		return fmt.Errorf("%s is damaged: %w: delete the directory to fetch it again", what, err)
	}
	if sum != want {
		return fmt.Errorf("%s is damaged (%s has sha256 %s, recorded %s): delete the directory to fetch it again", what, path, sum, want)
	}
	return nil
}
