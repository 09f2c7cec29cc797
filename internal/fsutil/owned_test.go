package fsutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMkdirOwned: the directories of a process that is gone are removed
// before a new one is made; those of a live process, of another prefix, or
// not named with a pid are kept.
func TestMkdirOwned(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	names := map[string]bool{ // name: kept
		fmt.Sprintf("fetch-%d-123", dead.Process.Pid):    false,
		fmt.Sprintf("fetch-%d-456", os.Getpid()):         true,
		fmt.Sprintf(".1.0.tmp-%d-789", dead.Process.Pid): true, // another prefix
		"fetch-3775616526":                               true, // an older keel's: no pid to judge by
		"other":                                          true,
	}
	for n := range names {
		if err := os.MkdirAll(filepath.Join(parent, n, "root"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := MkdirOwned(parent, "fetch-")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("fetch-%d-", os.Getpid()); !strings.HasPrefix(filepath.Base(dir), want) {
		t.Errorf("made %s, want a name starting %s", dir, want)
	}
	for n, kept := range names {
		_, err := os.Stat(filepath.Join(parent, n))
		if (err == nil) != kept {
			t.Errorf("%s: present %v, want %v", n, err == nil, kept)
		}
	}
}
