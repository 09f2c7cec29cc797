package debpkg

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
