package image

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/image/initramfs"
)

// TestBuildWriteFailureLeavesNothing: an initramfs that cannot be written
// whole (here: over the file size limit, as on a full disk) leaves neither
// the file nor its temporary behind, as Write promises.
func TestBuildWriteFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	init := filepath.Join(dir, "init")
	os.WriteFile(init, []byte("\x7fELF not really"), 0o755)
	noise := make([]byte, 4<<20) // incompressible: the archive stays over the limit
	rand.Read(noise)
	b := Build{Init: init, Config: bootcfg.Config{App: "/app/x"},
		Files: []initramfs.Entry{{Path: "/app/x", Kind: initramfs.File, Mode: 0o755, Data: noise}}}

	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	lim.Cur = 1 << 20
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skipf("cannot limit the file size: %v", err)
	}
	out := filepath.Join(dir, "initrd.img")
	_, err := b.Write(out)
	syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
	if err == nil {
		t.Fatal("Write over the file size limit succeeded")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "init" {
			t.Errorf("a failed Write left %s (error: %v)", e.Name(), err)
		}
	}
}
