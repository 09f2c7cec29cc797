package initramfs

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keelvm/keel/internal/testutil"
)

func sample(t *testing.T) *Archive {
	t.Helper()
	src := filepath.Join(t.TempDir(), "app")
	os.WriteFile(src, []byte("#!/bin/true\n"), 0o755)
	a := New()
	for _, e := range []Entry{
		{Path: "/init", Kind: File, Mode: 0o755, Data: []byte("init binary")},
		{Path: "/app/bin/hello", Kind: File, Mode: 0o755, Source: src},
		{Path: "/etc/keel/config.json", Kind: File, Mode: 0o644, Data: []byte(`{"app":"/app/bin/hello"}`)},
		{Path: "/dev/console", Kind: CharDev, Mode: 0o600, Major: 5, Minor: 1},
		{Path: "/dev/null", Kind: CharDev, Mode: 0o666, Major: 1, Minor: 3},
		{Path: "/bin/sh", Kind: Symlink, Mode: 0o777, Data: []byte("/app/bin/hello")},
		{Path: "/tmp", Kind: Dir, Mode: 0o1777},
	} {
		if err := a.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func TestReproducible(t *testing.T) {
	var a, b bytes.Buffer
	if _, err := sample(t).WriteTo(&a); err != nil {
		t.Fatal(err)
	}
	if _, err := sample(t).WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same inputs, different bytes")
	}
}

// TestReadableByCpio lists and extracts the archive with the zstd tool and
// GNU cpio, independent readers of the formats the kernel uses.
func TestReadableByCpio(t *testing.T) {
	for _, tool := range []string{"cpio", "zstd"} {
		if _, err := exec.LookPath(tool); err != nil {
			testutil.Unavailable(t, "%s not installed: make test installs it (scripts/ensure-deps.sh)", tool)
		}
	}
	var buf bytes.Buffer
	if _, err := sample(t).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(t.TempDir(), "initrd.img")
	os.WriteFile(raw, buf.Bytes(), 0o644)
	out, err := exec.Command("sh", "-c", "zstd -dc "+raw+" | cpio -itv --quiet").CombinedOutput()
	if err != nil {
		t.Fatalf("cpio: %v\n%s", err, out)
	}
	list := string(out)
	for _, want := range []string{"app/bin/hello", "etc/keel", "init", "bin/sh -> /app/bin/hello", "5,   1", "1,   3", "drwxrwxrwt"} {
		if !strings.Contains(list, want) {
			t.Errorf("listing lacks %q:\n%s", want, list)
		}
	}
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", "zstd -dc "+raw+" | cpio -id --quiet --no-absolute-filenames")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil && os.Getuid() != 0 {
		t.Logf("extract as non-root: %v %s", err, out) // device nodes need root
	} else if err != nil {
		t.Fatalf("extract: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "etc/keel/config.json")); err != nil || string(b) != `{"app":"/app/bin/hello"}` {
		t.Fatalf("content: %q %v", b, err)
	}
}

func TestAddErrors(t *testing.T) {
	a := New()
	a.Add(Entry{Path: "/etc", Kind: File, Data: []byte("x")})
	cases := []Entry{
		{Path: "/", Kind: Dir},
		{Path: "/etc", Kind: File},
		{Path: "/etc/passwd", Kind: File},
	}
	for _, e := range cases {
		if err := a.Add(e); err == nil {
			t.Errorf("Add(%q) succeeded", e.Path)
		}
	}
}

// TestEntryOverCpioLimit: an entry larger than a newc header can describe
// (4 GiB; lowered here) is refused by name, not written as an archive the
// kernel cannot unpack.
func TestEntryOverCpioLimit(t *testing.T) {
	old := maxEntrySize
	maxEntrySize = 10
	defer func() { maxEntrySize = old }()
	a := New()
	if err := a.Add(Entry{Path: "/app/big", Kind: File, Mode: 0o644, Data: []byte("eleven byte")}); err != nil {
		t.Fatal(err)
	}
	_, err := a.WriteTo(io.Discard)
	if err == nil || !strings.Contains(err.Error(), "/app/big") || !strings.Contains(err.Error(), "4 GiB") {
		t.Fatalf("writing an entry over the limit: %v", err)
	}
}
