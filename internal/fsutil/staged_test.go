package fsutil

import (
	"errors"
	"fmt"
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

// TestRemoveAllWhileWriting: a signal's RemoveAll while the program still
// writes into the directory leaves nothing of it, and an Install after it
// is refused instead of installing what is left.
func TestRemoveAllWhileWriting(t *testing.T) {
	for i := range 50 {
		base := t.TempDir()
		d := filepath.Join(base, "stage")
		os.MkdirAll(d, 0o755)
		var s Staged
		s.Add(d)
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				os.WriteFile(filepath.Join(d, fmt.Sprint("f", j)), []byte("x"), 0o644)
			}
		}()
		if n := s.RemoveAll(); n != 1 {
			t.Fatalf("RemoveAll reported %d directories, want 1", n)
		}
		close(stop)
		<-done
		installed := false
		if err := s.Install(d, func() error { installed = true; return nil }); !errors.Is(err, ErrAborted) || installed {
			t.Fatalf("Install after RemoveAll: %v (ran: %v), want ErrAborted", err, installed)
		}
		if ents, _ := os.ReadDir(base); len(ents) != 0 {
			t.Fatalf("round %d: left behind: %v", i, ents)
		}
	}
}
