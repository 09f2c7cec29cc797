package fsutil

import (
	"os"
	"path/filepath"
	"testing"
)

func TestStagedRemovesOnlyWhatIsInUse(t *testing.T) {
	base := t.TempDir()
	var s Staged
	dirs := map[string]bool{"kept": false, "done": false, "in-use": true}
	for name, inUse := range dirs {
		d := filepath.Join(base, name)
		os.MkdirAll(filepath.Join(d, "sub"), 0o755)
		if name != "kept" {
			s.Add(d)
		}
		if !inUse {
			s.Done(d)
		}
	}
	s.RemoveAll()
	for name, inUse := range dirs {
		_, err := os.Stat(filepath.Join(base, name))
		if gone := os.IsNotExist(err); gone != inUse {
			t.Errorf("%s: removed %v, want %v", name, gone, inUse)
		}
	}
}
