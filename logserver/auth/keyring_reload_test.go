package auth

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/keelvm/keel/internal/fsutil"
)

// TestKeyringPicksUpChmodRepair: a hand-edited keys.json that is readable by
// others is refused (the running server keeps its last good keys), and the
// error tells the operator to chmod 600 it. A chmod changes neither inode,
// size nor mtime, yet after it the server must serve the repaired file:
// otherwise a key removed in that edit stays usable until some unrelated
// keyring change.
func TestKeyringPicksUpChmodRepair(t *testing.T) {
	k, admin, dir := openTestKeyring(t)
	ci, err := k.Create("ci", nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, KeysFileName)
	// The edit drops ci, but lands with mode 0644 (an editor, cp or mv of a
	// file made under umask 022).
	if err := fsutil.WriteFileAtomic(path, encodeKeysFile([]Key{admin}), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.Lookup(ci.ID); !ok {
		t.Fatal("a keys.json readable by others replaced the keys in service")
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.Lookup(ci.ID); ok {
		t.Error("key removed from keys.json still accepted after chmod 600 repaired the file")
	}
	if _, ok := k.Lookup(admin.ID); !ok {
		t.Error("admin key refused after the repair")
	}
}
