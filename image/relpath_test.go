package image

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/store"
)

// TestFuseRelativeDirectory: a directory app given by a relative path,
// "." included (keel fuse . -entrypoint bin/app), is fused like the same
// directory given absolutely: its entrypoint is inside it, and an
// absolute link into it points into /app.
func TestFuseRelativeDirectory(t *testing.T) {
	f := setup(t)
	bin, err := os.ReadFile(f.static)
	if err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	tree := filepath.Join(parent, "myapp")
	os.MkdirAll(filepath.Join(tree, "bin"), 0o755)
	os.WriteFile(filepath.Join(tree, "bin", "app-1.2"), bin, 0o755)
	// The entrypoint is an absolute link to a file of the directory, as
	// update-alternatives-style layouts have.
	if err := os.Symlink(filepath.Join(tree, "bin", "app-1.2"), filepath.Join(tree, "bin", "app")); err != nil {
		t.Fatal(err)
	}
	st := store.Store{Dir: t.TempDir()}
	for i, tc := range []struct{ cwd, app, entry string }{
		{tree, ".", "bin/app-1.2"},
		{tree, ".", "bin/app"},
		{parent, "myapp", "bin/app"},
		{filepath.Join(tree, "bin"), "..", "bin/app"},
	} {
		t.Run(tc.app+" "+tc.entry, func(t *testing.T) {
			t.Chdir(tc.cwd)
			name := "test/rel:" + string(rune('a'+i))
			if _, err := f.fuse(t, st, name, tc.app, func(fu *Fuse) { fu.Entrypoint = tc.entry }); err != nil {
				t.Fatalf("fuse %s in %s: %v", tc.app, tc.cwd, err)
			}
			for _, e := range initrdEntries(t, st, name) {
				if e.Path == "/app/bin/app" && (e.Kind != initramfs.Symlink || string(e.Data) != "/app/bin/app-1.2") {
					t.Errorf("/app/bin/app -> %q, want /app/bin/app-1.2", e.Data)
				}
			}
		})
	}
}
