package initramfs

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHardLinks: names of one file share its inode and its content, which
// is written once; GNU cpio unpacks them as one file with several names,
// as the kernel does. A link to nothing is refused.
func TestHardLinks(t *testing.T) {
	a := New()
	body := bytes.Repeat([]byte("x"), 1000)
	for _, e := range []Entry{
		{Path: "/app/b", Kind: File, Mode: 0o755, Data: body},
		{Path: "/app/a", Kind: File, Mode: 0o755, Link: "/app/b"}, // sorts first: it carries the content
		{Path: "/app/c", Kind: File, Mode: 0o755, Link: "/app/b"},
		{Path: "/app/d", Kind: File, Mode: 0o644, Data: []byte("alone")},
	} {
		if err := a.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := a.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	entries, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Entry{}
	for _, e := range entries {
		got[e.Path] = e
	}
	for p, link := range map[string]string{"/app/a": "", "/app/b": "/app/a", "/app/c": "/app/a", "/app/d": ""} {
		e := got[p]
		if e.Link != link || (p != "/app/d" && !bytes.Equal(e.Data, body)) {
			t.Errorf("%s: link %q, %d bytes; want link %q", p, e.Link, len(e.Data), link)
		}
	}
	for _, w := range a.Written() {
		if strings.HasPrefix(w.Path, "/app/") && w.Path != "/app/d" && w.Size != 1000 {
			t.Errorf("written %s: size %d", w.Path, w.Size)
		}
	}
	if bytes.Count(buf.Bytes(), body) > 1 {
		t.Error("the content was written more than once")
	}
	// Unpacked by another reader: one inode.
	if _, err := exec.LookPath("cpio"); err == nil {
		var raw bytes.Buffer
		if err := a.writeCPIO(&raw); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		cmd := exec.Command("cpio", "-id", "--quiet")
		cmd.Dir, cmd.Stdin = dir, &raw
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cpio: %v\n%s", err, out)
		}
		fa, _ := os.Stat(filepath.Join(dir, "app/a"))
		fc, _ := os.Stat(filepath.Join(dir, "app/c"))
		if fa == nil || fc == nil || !os.SameFile(fa, fc) || fa.Size() != 1000 {
			t.Fatalf("cpio unpacked app/a and app/c as %v and %v", fa, fc)
		}
	}
	bad := New()
	bad.Add(Entry{Path: "/x", Kind: File, Link: "/nope"})
	if _, err := bad.WriteTo(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "not a file of the archive") {
		t.Fatalf("a link to nothing: %v", err)
	}
}
