package efi

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keelvm/keel/internal/testutil"
)

// TestEnsureMissingBinary: a cached systemd-boot whose binary is gone is
// reported as damaged, with the way out, and not downloaded again on every
// call (the fetch cannot replace a directory that is there).
func TestEnsureMissingBinary(t *testing.T) {
	if _, err := exec.LookPath("apt-cache"); err != nil {
		testutil.Unavailable(t, "%v", err)
	}
	version, err := candidate()
	if err != nil {
		testutil.Unavailable(t, "%v", err)
	}
	cache := t.TempDir()
	dir := filepath.Join(cache, Package+"_"+strings.ReplaceAll(version, ":", "%3a"))
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"Package":"`+Package+`","Version":"`+version+`","EFISHA256":"00"}`), 0o644)
	var progress strings.Builder
	_, err = Ensure(cache, &progress)
	if err == nil || !strings.Contains(err.Error(), "is damaged") || strings.Contains(progress.String(), "fetching") {
		t.Fatalf("Ensure over a cache missing its binary: %v; progress %q", err, progress.String())
	}
}
