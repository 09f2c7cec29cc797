package image

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keelvm/keel/image/initramfs"
)

// TestTreeFilesLinks: links that resolve inside the directory stay links
// (absolute ones pointed into /app); links out of it are replaced by what
// they name, files and directories (as the Debian JDK's conf/* ->
// /etc/...); hard links stay hard links.
func TestTreeFilesLinks(t *testing.T) {
	real := t.TempDir()
	outside := t.TempDir()
	os.MkdirAll(filepath.Join(real, "lib"), 0o755)
	os.WriteFile(filepath.Join(real, "lib", "libx.so.1"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(real, "lib", "data"), []byte("shared"), 0o640)
	os.Link(filepath.Join(real, "lib", "data"), filepath.Join(real, "lib", "data2"))
	os.WriteFile(filepath.Join(outside, "jvm.cfg"), []byte("-server KNOWN\n"), 0o600)
	os.MkdirAll(filepath.Join(outside, "security", "policy"), 0o755)
	os.WriteFile(filepath.Join(outside, "security", "java.security"), []byte("sec"), 0o644)
	os.WriteFile(filepath.Join(outside, "security", "policy", "limited"), []byte("lim"), 0o644)
	os.Symlink("java.security", filepath.Join(outside, "security", "alias.security"))
	// The user knows the directory by another path: a link to it.
	alias := filepath.Join(t.TempDir(), "myapp")
	if err := os.Symlink(real, alias); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"lib/abs.so":   filepath.Join(real, "lib", "libx.so.1"),
		"lib/alias.so": filepath.Join(alias, "lib", "libx.so.1"),
		"lib/rel.so":   "libx.so.1",
		"root":         real,
		"jvm.cfg":      filepath.Join(outside, "jvm.cfg"),
		"security":     filepath.Join(outside, "security"),
		"lib/up.cfg":   "../../" + filepath.Base(outside) + "/jvm.cfg",
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
		switch {
		case e.Kind == initramfs.Symlink:
			got[e.Path] = "-> " + string(e.Data)
		case e.Kind == initramfs.File && e.Link != "":
			got[e.Path] = "= " + e.Link
		case e.Kind == initramfs.File:
			b, _ := os.ReadFile(e.Source)
			got[e.Path] = string(b)
		}
	}
	want := map[string]string{
		"/app/lib/abs.so":              "-> /app/lib/libx.so.1",
		"/app/lib/alias.so":            "-> /app/lib/libx.so.1",
		"/app/lib/rel.so":              "-> libx.so.1",
		"/app/root":                    "-> /app",
		"/app/jvm.cfg":                 "-server KNOWN\n",
		"/app/lib/up.cfg":              "-server KNOWN\n",
		"/app/security/java.security":  "sec",
		"/app/security/policy/limited": "lim",
		"/app/security/alias.security": "-> java.security",
		"/app/lib/data":                "shared",
		"/app/lib/data2":               "= /app/lib/data",
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: %q, want %q", p, got[p], w)
		}
	}
	for _, e := range files {
		if e.Path == "/app/jvm.cfg" && e.Mode != 0o600 {
			t.Errorf("a copied link's file has mode %04o, want its target's 0600", e.Mode)
		}
	}
}

// TestTreeFilesBadLinks: a dangling link, and a link to a directory that
// holds the app, are errors naming the link.
func TestTreeFilesBadLinks(t *testing.T) {
	cases := []struct{ name, target, err string }{
		{"dangling", "/nonexistent/keel-test/cacerts", "does not exist"},
		{"ancestor", "../..", "holds the directory itself"},
		{"root", "/", "holds the directory itself"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "lib"), 0o755)
			link := filepath.Join(dir, "lib", "link")
			os.Symlink(tc.target, link)
			_, err := treeFiles(dir, "/app", -1)
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), link) {
				t.Fatalf("err = %v, want %q naming %s", err, tc.err, link)
			}
			// Where keel picks the tree itself (a JRE), it is left out.
			var notes []string
			files, err := copyTree(dir, "/app", -1, treeOpts{skipDangling: true, notes: &notes})
			if tc.name == "dangling" && (err != nil || len(notes) != 1 || len(files) != 2) {
				t.Fatalf("skipping: %v, notes %q, %d files", err, notes, len(files))
			}
		})
	}
}
