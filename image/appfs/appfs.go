// Package appfs writes the app disk of a keel image: a read-only squashfs
// filesystem, zstd-compressed, holding the app's files at their image
// paths, which init mounts instead of unpacking the app into RAM with the
// initramfs.
//
// The entries are laid out in a staging tree (modes, owners, a fixed time)
// and packed by mksquashfs (Debian's squashfs-tools), reproducibly: fixed
// file and filesystem times, no extended attributes, its -reproducible
// ordering. go-diskfs, keel's GPT and FAT32 writer, has a squashfs writer
// with zstd, tried first: its images do not mount (see docs/app-disk.md).
//
// It knows how to lay out a filesystem from entries, not which entries an
// image has (package image decides that).
package appfs

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/keelvm/keel/image/initramfs"
)

// Serial is the serial number of the app disk as keel run attaches it
// (virtio-blk), and PartName the GPT partition name of the app disk in
// disk images: how init finds it.
const (
	Serial   = "keel-app"
	PartName = "keel-app"
)

// FSType is the filesystem of the app disk, as mount(2) names it.
const FSType = "squashfs"

// Mksquashfs is the program that packs the tree.
const Mksquashfs = "mksquashfs"

// Level is the zstd level. On the CPython test directory (48 MB): level 3
// packed it in 1.0 s to 18.3 MB, 6 in 1.9 s to 17.3, 9 in 4.2 s to 17.1,
// mksquashfs's default 15 in 30 s to 15.8 (docs/app-disk.md); reading is
// as fast at any level. 6: most of the size for little of the time.
const Level = 6

// epoch is every file's time: the same inputs give the same bytes.
var epoch = time.Unix(0, 0)

// Result describes a written app disk.
type Result struct {
	Size   int64 // of the image file, padded to 4 KiB
	SHA256 string
	// Used is the filesystem's own length (the superblock's bytes_used).
	Used int64
	// Files are the entries as written: regular files with their size
	// and checksum, for the manifest.
	Files []initramfs.Written
	// Bytes is the sum of the regular files' sizes (uncompressed).
	Bytes int64
}

// Available says whether mksquashfs can be run, and how to get it.
func Available() error {
	if _, err := exec.LookPath(Mksquashfs); err != nil {
		return fmt.Errorf("app disk: %s not found: install the Debian package squashfs-tools (apt-get install --no-install-recommends squashfs-tools), or keep the app in the initramfs (a smaller app)", Mksquashfs)
	}
	return nil
}

// Write writes entries as a squashfs image to dst, atomically: a failure
// leaves nothing behind. Parent directories missing from entries are
// added (0755, root).
func Write(dst string, entries []initramfs.Entry) (Result, error) {
	var res Result
	if err := Available(); err != nil {
		return res, err
	}
	tmp := dst + ".tmp"
	tree := dst + ".tree"
	os.Remove(tmp)
	os.RemoveAll(tree)
	ok := false
	defer func() {
		os.RemoveAll(tree)
		if !ok {
			os.Remove(tmp)
		}
	}()
	if err := os.Mkdir(tree, 0o755); err != nil {
		return res, fmt.Errorf("create app disk %s: %w", dst, err)
	}
	files, err := populate(tree, entries)
	if err != nil {
		return res, err
	}
	res.Files = files
	for _, w := range files {
		if w.Kind == initramfs.File && w.Link == "" {
			res.Bytes += w.Size
		}
	}
	var out bytes.Buffer
	cmd := exec.Command(Mksquashfs, tree, tmp, "-noappend", "-quiet", "-no-progress", "-comp", "zstd",
		"-Xcompression-level", fmt.Sprint(Level), "-no-xattrs", "-reproducible", "-mkfs-time", "0", "-all-time", "0")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return res, fmt.Errorf("app disk: %s: %w: %s", Mksquashfs, err, strings.TrimSpace(out.String()))
	}
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return res, fmt.Errorf("write app disk %s: %w", dst, err)
	}
	defer f.Close()
	// A block device is whole sectors: a disk shorter than the file cuts
	// its end off (QEMU rounds down). mksquashfs pads to 4 KiB; made sure.
	if fi, err := f.Stat(); err != nil {
		return res, fmt.Errorf("write app disk %s: %w", dst, err)
	} else if rem := fi.Size() % 4096; rem != 0 {
		if err := f.Truncate(fi.Size() + 4096 - rem); err != nil {
			return res, fmt.Errorf("write app disk %s: %w", dst, err)
		}
	}
	if err := f.Sync(); err != nil {
		return res, fmt.Errorf("write app disk %s: %w", dst, err)
	}
	sb := make([]byte, 96)
	if _, err := io.ReadFull(f, sb); err != nil {
		return res, fmt.Errorf("read app disk %s: %w", dst, err)
	}
	if res.Used, err = Superblock(sb); err != nil {
		return res, fmt.Errorf("read app disk %s: %w", dst, err)
	}
	h := sha256.New()
	h.Write(sb)
	n, err := io.Copy(h, f)
	n += int64(len(sb))
	if err != nil {
		return res, fmt.Errorf("read app disk %s: %w", dst, err)
	}
	res.Size, res.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	if err := f.Close(); err != nil {
		return res, fmt.Errorf("write app disk %s: %w", dst, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return res, fmt.Errorf("write app disk %s: %w", dst, err)
	}
	ok = true
	return res, nil
}

// populate lays the entries out in the workspace dir, with their modes,
// owners and a fixed time, and returns them as written.
func populate(ws string, entries []initramfs.Entry) ([]initramfs.Written, error) {
	sorted := append([]initramfs.Entry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	var out []initramfs.Written
	seen := map[string]bool{}
	var dirs []string // given times last: writing into a directory changes its mtime
	var links []initramfs.Written
	chown := func(p string, uid, gid int) error {
		err := os.Lchown(p, uid, gid)
		if errors.Is(err, syscall.EPERM) && uid == os.Getuid() {
			return nil
		}
		if err != nil {
			return fmt.Errorf("app disk: own %s by %d:%d (fusing an app disk needs root, or an app owned by the user fusing): %w", p, uid, gid, err)
		}
		return nil
	}
	mkParents := func(p string) error {
		var missing []string
		for d := path.Dir(p); d != "/" && !seen[d]; d = path.Dir(d) {
			missing = append(missing, d)
		}
		for i := len(missing) - 1; i >= 0; i-- {
			d := missing[i]
			if err := mkParentsOne(ws, d); err != nil {
				return err
			}
			seen[d] = true
			dirs = append(dirs, d)
		}
		return nil
	}
	for _, e := range sorted {
		p := path.Clean("/" + e.Path)
		if p == "/" || strings.Contains(p, "\x00") {
			return nil, fmt.Errorf("app disk: invalid path %q", e.Path)
		}
		if seen[p] && e.Kind != initramfs.Dir {
			return nil, fmt.Errorf("app disk: %s added twice", p)
		}
		if err := mkParents(p); err != nil {
			return nil, err
		}
		host := filepath.Join(ws, filepath.FromSlash(p))
		w := initramfs.Written{Entry: e}
		w.Path = p
		switch e.Kind {
		case initramfs.Dir:
			if err := os.MkdirAll(host, 0o755); err != nil {
				return nil, fmt.Errorf("app disk: %w", err)
			}
			dirs = append(dirs, p)
		case initramfs.File:
			if e.Link != "" {
				// A hard link: made once every file is there (its
				// target may sort after it).
				links = append(links, w)
				seen[p] = true
				continue
			}
			sum, n, err := writeFile(host, e)
			if err != nil {
				return nil, err
			}
			w.Size, w.SHA256 = n, sum
		case initramfs.Symlink:
			if err := os.Symlink(string(e.Data), host); err != nil {
				return nil, fmt.Errorf("app disk: %w", err)
			}
			w.Size = int64(len(e.Data))
		default:
			return nil, fmt.Errorf("app disk: %s: only files, directories and symlinks go on the app disk", p)
		}
		seen[p] = true
		if err := chown(host, e.UID, e.GID); err != nil {
			return nil, err
		}
		if e.Kind != initramfs.Symlink {
			if err := os.Chmod(host, fileMode(e.Mode)); err != nil {
				return nil, fmt.Errorf("app disk: %w", err)
			}
			if e.Kind == initramfs.File {
				if err := os.Chtimes(host, epoch, epoch); err != nil {
					return nil, fmt.Errorf("app disk: %w", err)
				}
			}
		} else if err := lutimesZero(host); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	// Hard links, after every file: mksquashfs keeps them as links (one
	// inode, nlink counted).
	for _, w := range links {
		target := path.Clean("/" + w.Link)
		var src *initramfs.Written
		for i := range out {
			if out[i].Path == target && out[i].Kind == initramfs.File && out[i].Link == "" {
				src = &out[i]
				break
			}
		}
		if src == nil {
			return nil, fmt.Errorf("app disk: %s is a hard link to %s, which is not a file of the disk", w.Path, target)
		}
		host := filepath.Join(ws, filepath.FromSlash(w.Path))
		if err := os.Link(filepath.Join(ws, filepath.FromSlash(target)), host); err != nil {
			return nil, fmt.Errorf("app disk: %w", err)
		}
		w.Size, w.SHA256 = src.Size, src.SHA256
		out = append(out, w)
	}
	// Deepest first, the root last.
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range append(dirs, "/") {
		if err := os.Chtimes(filepath.Join(ws, filepath.FromSlash(d)), epoch, epoch); err != nil {
			return nil, fmt.Errorf("app disk: %w", err)
		}
	}
	if err := os.Chmod(ws, 0o755); err != nil {
		return nil, fmt.Errorf("app disk: %w", err)
	}
	if err := os.Chtimes(ws, epoch, epoch); err != nil {
		return nil, fmt.Errorf("app disk: %w", err)
	}
	return out, nil
}

func mkParentsOne(ws, d string) error {
	host := filepath.Join(ws, filepath.FromSlash(d))
	if err := os.Mkdir(host, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("app disk: %w", err)
	}
	return nil
}

// writeFile writes e's content to host and returns its sha256 and size.
func writeFile(host string, e initramfs.Entry) (string, int64, error) {
	out, err := os.OpenFile(host, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return "", 0, fmt.Errorf("app disk: %w", err)
	}
	defer out.Close()
	h := sha256.New()
	var n int64
	if e.Source != "" {
		in, err := os.Open(e.Source)
		if err != nil {
			return "", 0, fmt.Errorf("app disk: read %s for %s: %w", e.Source, e.Path, err)
		}
		defer in.Close()
		n, err = io.Copy(io.MultiWriter(out, h), in)
		if err != nil {
			return "", 0, fmt.Errorf("app disk: copy %s for %s: %w", e.Source, e.Path, err)
		}
	} else {
		m, err := io.MultiWriter(out, h).Write(e.Data)
		if err != nil {
			return "", 0, fmt.Errorf("app disk: write %s: %w", e.Path, err)
		}
		n = int64(m)
	}
	if err := out.Close(); err != nil {
		return "", 0, fmt.Errorf("app disk: write %s: %w", e.Path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// fileMode turns chmod(2) bits into an os.FileMode.
func fileMode(m uint32) os.FileMode {
	fm := os.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		fm |= os.ModeSetuid
	}
	if m&0o2000 != 0 {
		fm |= os.ModeSetgid
	}
	if m&0o1000 != 0 {
		fm |= os.ModeSticky
	}
	return fm
}

// Superblock reads the size a squashfs image declares (bytes_used) from
// its first 96 bytes, checking its magic: init compares it with the
// device's size to tell a truncated disk.
func Superblock(b []byte) (size int64, err error) {
	if len(b) < 96 || binary.LittleEndian.Uint32(b[0:4]) != 0x73717368 {
		return 0, errors.New("no squashfs superblock")
	}
	return int64(binary.LittleEndian.Uint64(b[40:48])), nil
}
