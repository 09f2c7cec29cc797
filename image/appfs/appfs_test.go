package appfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/internal/testutil"
)

// TestWrite packs files, a setuid program and a hard link to it, a symlink
// and directories with
// their owners, and reads the listing back with unsquashfs (the same
// squashfs-tools, an independent reader of the format); the same entries
// give the same bytes, and the superblock's length is the one recorded.
func TestWrite(t *testing.T) {
	if err := Available(); err != nil {
		testutil.Unavailable(t, "%v", err)
	}
	if _, err := exec.LookPath("unsquashfs"); err != nil {
		testutil.Unavailable(t, "unsquashfs: %v", err)
	}
	if os.Getuid() != 0 {
		testutil.Unavailable(t, "owners other than one's own need root: run as root")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.WriteFile(src, []byte(strings.Repeat("keel ", 100000)), 0o600)
	entries := []initramfs.Entry{
		{Path: "/app/bin/server", Kind: initramfs.File, Mode: 0o4755, Source: src, UID: 65534, GID: 65534},
		{Path: "/app/bin/a-link", Kind: initramfs.File, Mode: 0o4755, Link: "/app/bin/server", UID: 65534, GID: 65534},
		{Path: "/app/data", Kind: initramfs.Dir, Mode: 0o750, UID: 65534, GID: 65534},
		{Path: "/app/data/note", Kind: initramfs.File, Mode: 0o644, Data: []byte("hello\n"), UID: 65534, GID: 65534},
		{Path: "/app/current", Kind: initramfs.Symlink, Mode: 0o777, Data: []byte("bin/server"), UID: 65534, GID: 65534},
		{Path: "/lib/x86_64-linux-gnu/libz.so.1", Kind: initramfs.File, Mode: 0o644, Data: []byte("lib")},
	}
	var sums []string
	for _, name := range []string{"a.img", "b.img"} {
		res, err := Write(filepath.Join(dir, name), entries)
		if err != nil {
			t.Fatal(err)
		}
		if res.Size%4096 != 0 || res.Used > res.Size || res.Bytes != 500000+6+3 {
			t.Fatalf("result %+v", res)
		}
		sums = append(sums, res.SHA256)
	}
	if sums[0] != sums[1] {
		t.Fatalf("the same entries gave different images: %v", sums)
	}
	out, err := exec.Command("unsquashfs", "-lln", "-n", filepath.Join(dir, "a.img")).CombinedOutput()
	if err != nil {
		t.Fatalf("unsquashfs: %v\n%s", err, out)
	}
	// Each line: mode owner size date time path [-> target].
	var list []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		list = append(list, strings.Join(strings.Fields(l), " "))
	}
	joined := strings.Join(list, "\n")
	for _, w := range []string{
		"-rwsr-xr-x 65534/65534 500000 1970-01-01 00:00 squashfs-root/app/bin/server",
		"-rwsr-xr-x 65534/65534 500000 1970-01-01 00:00 squashfs-root/app/bin/a-link",
		"drwxr-x--- 65534/65534 27 1970-01-01 00:00 squashfs-root/app/data",
		"lrwxrwxrwx 65534/65534 10 1970-01-01 00:00 squashfs-root/app/current -> bin/server",
		"-rw-r--r-- 0/0 3 1970-01-01 00:00 squashfs-root/lib/x86_64-linux-gnu/libz.so.1",
	} {
		if !strings.Contains(joined, w) {
			t.Errorf("listing lacks %q:\n%s", w, joined)
		}
	}
	if _, err := Write(filepath.Join(dir, "c.img"), []initramfs.Entry{{Path: "/dev/x", Kind: initramfs.CharDev}}); err == nil || !strings.Contains(err.Error(), "only files, directories and symlinks") {
		t.Errorf("a device node: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "c.img")); err == nil {
		t.Errorf("a failed write left its image")
	}
}
