package debpkg

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadManifestSaysHowToRepair: a cache entry without its manifest, or
// with a damaged one, is named with what to do; a missing entry is still
// a "does not exist" error, and Absent tells it from a damaged one.
func TestReadManifestSaysHowToRepair(t *testing.T) {
	cache := t.TempDir()
	var m struct{ Version string }
	if err := ReadManifest(filepath.Join(cache, "absent"), &m); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing entry: %v, want a not-exist error", err)
	}
	incomplete := filepath.Join(cache, "incomplete")
	os.MkdirAll(incomplete, 0o755)
	if err := ReadManifest(incomplete, &m); err == nil || !strings.Contains(err.Error(), "is incomplete (open "+filepath.Join(incomplete, ManifestFile)) || !strings.Contains(err.Error(), "delete the directory") {
		t.Errorf("entry without a manifest: %v", err)
	}
	if !Absent(filepath.Join(cache, "absent")) || Absent(incomplete) {
		t.Error("Absent: wrong for a missing or a present entry")
	}
	damaged := filepath.Join(cache, "damaged")
	os.MkdirAll(damaged, 0o755)
	os.WriteFile(filepath.Join(damaged, ManifestFile), []byte("{"), 0o644)
	if err := ReadManifest(damaged, &m); err == nil || !strings.Contains(err.Error(), "is damaged (read") || !strings.Contains(err.Error(), "delete the directory") {
		t.Errorf("entry with a damaged manifest: %v", err)
	}
}
