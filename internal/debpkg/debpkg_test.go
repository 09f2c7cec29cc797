package debpkg

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSweepStale: a fetch killed outright leaves its staging directory
// (a kernel's is about 70 MB); the next fetch removes those whose process
// is gone, and leaves the rest: a fetch at work, names it did not make.
func TestSweepStale(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	staging := t.TempDir()
	names := map[string]bool{ // name: kept
		fmt.Sprintf("fetch-%d-123", dead.Process.Pid): false,
		fmt.Sprintf("fetch-%d-456", os.Getpid()):      true,
		"fetch-3775616526":                            true, // an older keel's: no pid to judge by
		"other":                                       true,
	}
	for n := range names {
		if err := os.MkdirAll(filepath.Join(staging, n, "root"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sweepStale(staging)
	for n, kept := range names {
		_, err := os.Stat(filepath.Join(staging, n))
		if (err == nil) != kept {
			t.Errorf("%s: present %v, want %v", n, err == nil, kept)
		}
	}
}

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
