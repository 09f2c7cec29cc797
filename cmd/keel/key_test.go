package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyCreateFailedWriteLeavesNoKey: a key whose credentials file cannot
// be written is not kept (nobody has its secret), so that the same command
// with the path fixed succeeds instead of finding the name taken.
func TestKeyCreateFailedWriteLeavesNoKey(t *testing.T) {
	home := t.TempDir()
	bad := filepath.Join(home, "no-such-dir", "vm.credentials")
	for _, args := range [][]string{
		{"-o", bad},
		{"-o", filepath.Join(home, "vm.credentials"), "-profile", "bad]name"},
	} {
		r := keel(t, home, append([]string{"logserver", "key", "create", "-name", "vm-hello", "-group", "keel/dev"}, args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "write credentials") {
			t.Fatalf("key create %v: exit %d, %q; want exit 1 and the write's error", args, r.code, r.stderr)
		}
		if r := keel(t, home, "logserver", "key", "list"); strings.Contains(r.stdout, "vm-hello") {
			t.Fatalf("key create %v failed but left the key:\n%s", args, r.stdout)
		}
	}
	good := filepath.Join(home, "vm.credentials")
	if r := keel(t, home, "logserver", "key", "create", "-name", "vm-hello", "-group", "keel/dev", "-o", good); r.code != 0 {
		t.Fatalf("key create again: exit %d, %q", r.code, r.stderr)
	}
	if b, err := os.ReadFile(good); err != nil || !strings.Contains(string(b), "aws_secret_access_key") {
		t.Fatalf("credentials file: %v %q", err, b)
	}
}
