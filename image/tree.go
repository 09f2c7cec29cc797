package image

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/keelvm/keel/image/initramfs"
)

// treeFiles copies a directory tree to prefix, keeping modes, symlinks
// and hard links.
//
// A symlink that resolves inside the tree (root, or one of aliases: the
// paths the user knows it by) stays a link; an absolute one is pointed at
// the same file under prefix, since as it was it would name a host path
// the image does not have. A symlink that resolves outside the tree (the
// Debian JDK's conf/*, lib/jvm.cfg and lib/security/cacerts -> /etc/...)
// is replaced by a copy of what it names, a directory with its content:
// the image has only the tree. A dangling one is an error naming it.
func treeFiles(root, prefix string, owner int, aliases ...string) ([]initramfs.Entry, error) {
	return copyTree(root, prefix, owner, treeOpts{}, aliases...)
}

// treeOpts adjust copyTree for trees keel picks itself (a JRE), where a
// dangling link (the Debian JDK's libatk-wrapper.so, of a package not
// installed) is left out with a note rather than refused.
type treeOpts struct {
	skipDangling bool
	notes        *[]string
	exclude      func(rel string) bool // relative slash path: leave it out
}

// mapping is a host directory copied to a place of the image.
type mapping struct{ host, guest string }

type treeCopy struct {
	owner int
	opts  treeOpts
	out   []initramfs.Entry
	// links: the first image path of each host inode with several names.
	links map[[2]uint64]string
	depth int
	top   string // the image path of the tree
}

func copyTree(root, prefix string, owner int, opts treeOpts, aliases ...string) ([]initramfs.Entry, error) {
	c := &treeCopy{owner: owner, opts: opts, links: map[[2]uint64]string{}, top: prefix}
	var roots []mapping
	for _, r := range append([]string{root}, aliases...) {
		if r != "" {
			roots = append(roots, mapping{filepath.Clean(r), prefix})
		}
	}
	if err := c.walk(root, prefix, roots, true); err != nil {
		return nil, err
	}
	return c.out, nil
}

// walk copies host directory dir to guest. roots are the host directories
// whose links stay links: the app's, or a directory copied through a link
// (for its links inside itself).
func (c *treeCopy) walk(dir, guestDir string, roots []mapping, top bool) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read app directory: %w", err)
		}
		rel, _ := filepath.Rel(dir, p)
		guest := path.Join(guestDir, filepath.ToSlash(rel))
		// Relative to the top of the copy, through copied links too.
		if inTree, ok := strings.CutPrefix(guest, c.top+"/"); ok && c.opts.exclude != nil && c.opts.exclude(inTree) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return fmt.Errorf("read app directory: %w", err)
		}
		e := initramfs.Entry{Path: guest, Mode: unixMode(fi.Mode())}
		if c.owner >= 0 {
			e.UID, e.GID = c.owner, c.owner
		}
		switch {
		case fi.Mode().IsDir():
			e.Kind = initramfs.Dir
		case fi.Mode().IsRegular():
			e.Kind, e.Source = initramfs.File, p
			c.hardLink(&e, fi)
		case fi.Mode()&fs.ModeSymlink != 0:
			return c.symlink(p, guest, e, roots)
		default:
			return fmt.Errorf("app directory: %s is a %v, which an image cannot hold: remove it", p, fi.Mode().Type())
		}
		if top && guest == guestDir {
			e.Mode = 0o755
		}
		c.out = append(c.out, e)
		return nil
	})
}

// hardLink makes e a link to the first name of its inode seen.
func (c *treeCopy) hardLink(e *initramfs.Entry, fi fs.FileInfo) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Nlink < 2 {
		return
	}
	key := [2]uint64{st.Dev, st.Ino}
	if first, seen := c.links[key]; seen {
		e.Link, e.Source = first, ""
		return
	}
	c.links[key] = e.Path
}

// symlink adds the link at p (image path guest): kept when it resolves in
// one of roots, else replaced by a copy of its target.
func (c *treeCopy) symlink(p, guest string, e initramfs.Entry, roots []mapping) error {
	t, err := os.Readlink(p)
	if err != nil {
		return fmt.Errorf("read app directory: %w", err)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		if c.opts.skipDangling {
			if c.opts.notes != nil {
				*c.opts.notes = append(*c.opts.notes, fmt.Sprintf("left out %s: a link to %s, which does not exist", p, t))
			}
			return nil
		}
		return fmt.Errorf("app directory: %s is a link to %s, which does not exist (%v): remove the link, or make what it names exist", p, t, err)
	}
	for _, r := range roots {
		if within(real, r.host) {
			e.Kind, e.Data = initramfs.Symlink, []byte(intoTree(t, roots))
			c.out = append(c.out, e)
			return nil
		}
	}
	// Outside: what it names is copied in its place.
	fi, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("app directory: %s is a link to %s: %w", p, real, err)
	}
	switch {
	case fi.Mode().IsRegular():
		e.Kind, e.Source, e.Mode = initramfs.File, real, unixMode(fi.Mode())
		c.hardLink(&e, fi)
		c.out = append(c.out, e)
		return nil
	case fi.IsDir():
		for _, r := range roots {
			if within(r.host, real) {
				return fmt.Errorf("app directory: %s is a link to %s, which holds the directory itself: remove the link", p, real)
			}
		}
		if c.depth > 8 {
			return fmt.Errorf("app directory: %s: links to directories nested more than 8 deep", p)
		}
		c.depth++
		defer func() { c.depth-- }()
		return c.walk(real, guest, append([]mapping{{real, guest}}, roots...), false)
	default:
		return fmt.Errorf("app directory: %s is a link to %s, a %v, which an image cannot hold: remove it", p, real, fi.Mode().Type())
	}
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// intoTree maps an absolute link target inside one of roots to the same
// path under its image directory; anything else is returned as it is.
func intoTree(target string, roots []mapping) string {
	if !filepath.IsAbs(target) {
		return target
	}
	clean := filepath.Clean(target)
	for _, r := range roots {
		if rel, err := filepath.Rel(r.host, clean); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return path.Join(r.guest, filepath.ToSlash(rel))
		}
	}
	return target
}

// hostFiles maps the image path of every file of entries, and of every
// link to one of them, to the host file it is read from: the app
// directory's own files, for the library search.
func hostFiles(entries []initramfs.Entry) map[string]string {
	files := map[string]string{}
	links := map[string]string{}
	for _, e := range entries {
		switch {
		case e.Kind == initramfs.File && e.Source != "":
			files[e.Path] = e.Source
		case e.Kind == initramfs.Symlink:
			links[e.Path] = string(e.Data)
		}
	}
	for _, e := range entries {
		if e.Kind == initramfs.File && e.Link != "" {
			if src, ok := files[e.Link]; ok {
				files[e.Path] = src
			}
		}
	}
	for l := range links {
		p := l
		for i := 0; i < 16; i++ {
			t, ok := links[p]
			if !ok {
				break
			}
			if !path.IsAbs(t) {
				t = path.Join(path.Dir(p), t)
			}
			p = path.Clean(t)
		}
		if src, ok := files[p]; ok {
			files[l] = src
		}
	}
	return files
}
