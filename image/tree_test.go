package image

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/keelvm/keel/image/initramfs"
)

// Absolute links into the app directory point into /app in the image;
// relative links and links elsewhere stay as they are.
func TestTreeFilesLinks(t *testing.T) {
	real := t.TempDir()
	os.MkdirAll(filepath.Join(real, "lib"), 0o755)
	os.WriteFile(filepath.Join(real, "lib", "libx.so.1"), []byte("x"), 0o644)
	// The user knows the directory by another path: a link to it.
	alias := filepath.Join(t.TempDir(), "myapp")
	if err := os.Symlink(real, alias); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"lib/abs.so":     filepath.Join(real, "lib", "libx.so.1"),
		"lib/alias.so":   filepath.Join(alias, "lib", "libx.so.1"),
		"lib/rel.so":     "libx.so.1",
		"certs":          "/etc/ssl/certs",
		"lib/outside.so": filepath.Join(filepath.Dir(real), "elsewhere.so"),
		"root":           real,
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(real, name)); err != nil {
			t.Fatal(err)
		}
	}
	files, err := treeFiles(real, "/app", -1, alias)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range files {
		if e.Kind == initramfs.Symlink {
			got[e.Path] = string(e.Data)
		}
	}
	want := map[string]string{
		"/app/lib/abs.so":     "/app/lib/libx.so.1",
		"/app/lib/alias.so":   "/app/lib/libx.so.1",
		"/app/lib/rel.so":     "libx.so.1",
		"/app/certs":          "/etc/ssl/certs",
		"/app/lib/outside.so": filepath.Join(filepath.Dir(real), "elsewhere.so"),
		"/app/root":           "/app",
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s -> %q, want %q", p, got[p], w)
		}
	}
}
