package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResolveCompressed: a kernel whose modules are compressed (.ko.xz, as
// some distributions ship them) is refused with an error that says so,
// not with "not in" for a module that is there.
func TestResolveCompressed(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "kernel", "drivers", "net", "virtio_net.ko.xz")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte("\xfd7zXZ\x00"), 0o644)
	tree, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tree.Resolve("virtio_net")
	if err == nil || !strings.Contains(err.Error(), "kernel/drivers/net/virtio_net.ko.xz") || !strings.Contains(err.Error(), "compressed") {
		t.Fatalf("err = %v, want one naming the compressed file", err)
	}
}
