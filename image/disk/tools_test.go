package disk

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/keelvm/keel/internal/testutil"
)

// requireTool finds a host tool the test checks images with; on CI a
// missing one is a failure, never a skip.
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		testutil.Unavailable(t, "%s not found: install the Debian package %s", name, pkg)
	}
	return p
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestQEMUImg checks the VMDK and VDI writers against QEMU's readers:
// qemu-img check finds no errors, info sees the format and the disk's
// size, and compare finds the same bytes as the raw image.
func TestQEMUImg(t *testing.T) {
	qemuImg := requireTool(t, "qemu-img", "qemu-utils")
	dir := t.TempDir()
	spec := fakeSpec(t, dir, "qemu-img", 5<<20, 9<<20, 100<<10)
	raw := filepath.Join(dir, "disk.raw")
	size, err := Write(spec, raw, Raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{VMDK, VDI} {
		t.Run(string(f), func(t *testing.T) {
			out := filepath.Join(dir, "disk."+string(f))
			if _, err := Write(spec, out, f); err != nil {
				t.Fatal(err)
			}
			run(t, qemuImg, "check", "-f", string(f), out)
			info := run(t, qemuImg, "info", "--output=json", "-f", string(f), out)
			for _, w := range []string{`"format": "` + string(f) + `"`, `"virtual-size": ` + itoa(size)} {
				if !strings.Contains(info, w) {
					t.Fatalf("qemu-img info lacks %s:\n%s", w, info)
				}
			}
			if f == VMDK && !strings.Contains(info, `"create-type": "streamOptimized"`) {
				t.Fatalf("not streamOptimized:\n%s", info)
			}
			run(t, qemuImg, "compare", "-f", "raw", "-F", string(f), raw, out)
		})
	}
}

// TestFsck checks the GPT with sgdisk and the ESP with fsck.fat, tools
// that share no code with go-diskfs.
func TestFsck(t *testing.T) {
	sgdisk := requireTool(t, "sgdisk", "gdisk")
	fsck := requireTool(t, "fsck.fat", "dosfstools")
	dir := t.TempDir()
	raw := filepath.Join(dir, "disk.raw")
	if _, err := Write(fakeSpec(t, dir, "fsck"), raw, Raw); err != nil {
		t.Fatal(err)
	}
	if out := run(t, sgdisk, "-v", raw); !strings.Contains(out, "No problems found") {
		t.Fatalf("sgdisk -v:\n%s", out)
	}
	b, _ := os.ReadFile(raw)
	esp := filepath.Join(dir, "esp.img")
	os.WriteFile(esp, b[espStart:espStart+espMin], 0o644)
	// -n: check only; any finding makes the exit status non-zero.
	out := run(t, fsck, "-n", "-v", esp)
	for _, bad := range []string{"Fixing", "Invalid", "uninitialized", "should be"} {
		if strings.Contains(out, bad) {
			t.Fatalf("fsck.fat:\n%s", out)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
