package efi

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/keelvm/keel/internal/testutil"
)

// TestEnsure fetches systemd-boot into a fresh cache, finds it there the
// second time, and refuses a damaged copy.
func TestEnsure(t *testing.T) {
	if _, err := exec.LookPath("apt-get"); err != nil {
		testutil.Unavailable(t, "%v", err)
	}
	cache := t.TempDir()
	var progress bytes.Buffer
	l, err := Ensure(cache, &progress)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	b, err := os.ReadFile(l.Path)
	if err != nil {
		t.Fatal(err)
	}
	// A PE image: "MZ", and systemd-boot's name inside.
	if !bytes.HasPrefix(b, []byte("MZ")) || !bytes.Contains(b, []byte("systemd-boot")) {
		t.Fatalf("%s is not systemd-boot (%d bytes)", l.Path, len(b))
	}
	progress.Reset()
	again, err := Ensure(cache, &progress)
	if err != nil || again.Path != l.Path || progress.Len() != 0 {
		t.Fatalf("second Ensure: %v, %s, fetched again: %q", err, again.Path, progress.String())
	}
	if err := os.WriteFile(l.Path, append(b, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(cache, nil); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged copy: got %v", err)
	}
}
