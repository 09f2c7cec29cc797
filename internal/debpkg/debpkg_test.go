package debpkg

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadManifestSaysHowToRepair: a cache entry without its manifest, or
// with a damaged one, is named with what to do; a missing entry stays a
// plain "does not exist" for the caller to fetch.
func TestReadManifestSaysHowToRepair(t *testing.T) {
	cache := t.TempDir()
	var m struct{ Version string }
	if err := ReadManifest(filepath.Join(cache, "absent"), &m); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing entry: %v, want a not-exist error", err)
	}
	incomplete := filepath.Join(cache, "incomplete")
	os.MkdirAll(incomplete, 0o755)
	if err := ReadManifest(incomplete, &m); err == nil || !strings.Contains(err.Error(), "is incomplete (no manifest.json): delete the directory") {
		t.Errorf("entry without a manifest: %v", err)
	}
	damaged := filepath.Join(cache, "damaged")
	os.MkdirAll(damaged, 0o755)
	os.WriteFile(filepath.Join(damaged, ManifestFile), []byte("{"), 0o644)
	if err := ReadManifest(damaged, &m); err == nil || !strings.Contains(err.Error(), "is damaged (read") || !strings.Contains(err.Error(), "delete the directory") {
		t.Errorf("entry with a damaged manifest: %v", err)
	}
}
