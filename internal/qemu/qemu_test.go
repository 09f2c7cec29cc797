package qemu

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSpacelessPath(t *testing.T) {
	base := t.TempDir()
	spaced := filepath.Join(base, "my tools")
	os.MkdirAll(spaced, 0o755)
	exe := filepath.Join(spaced, "keel")
	os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755)
	plain := filepath.Join(base, "plain")
	os.MkdirAll(plain, 0o755)
	for _, tc := range []struct {
		name, exe, dir string
		tmp            bool
	}{
		{"no space: as it is", "/usr/bin/keel", plain, false},
		{"space: a link in dir", exe, plain, false},
		{"space in dir too: a link in a temp dir", exe, spaced, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, tmp, err := spacelessPath(tc.exe, tc.dir)
			if err != nil {
				t.Fatal(err)
			}
			if tmp != "" {
				defer os.RemoveAll(tmp)
			}
			if strings.ContainsAny(p, " \t\n") || (tmp != "") != tc.tmp {
				t.Fatalf("path %q, temp dir %q", p, tmp)
			}
			if tc.exe != "/usr/bin/keel" {
				if got, err := filepath.EvalSymlinks(p); err != nil || got != tc.exe {
					t.Fatalf("%s leads to %q (%v), not %s", p, got, err, tc.exe)
				}
			}
		})
	}
}
