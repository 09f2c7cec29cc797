package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteCredentialsFileKeepsOtherProfiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	old := "[default]\naws_access_key_id = AKIAREALKEY\naws_secret_access_key = real\n\n" +
		"[keel]\naws_access_key_id = KEELOLD\naws_secret_access_key = old\n\n" +
		"[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	key := Key{ID: "KEELNEW0000000000000", Secret: strings.Repeat("n", 40), Name: "vm"}
	if err := WriteCredentialsFile(path, key, "keel"); err != nil {
		t.Fatal(err)
	}
	ini := parseINI(t, path)
	if ini["keel"]["aws_access_key_id"] != key.ID || ini["keel"]["aws_secret_access_key"] != key.Secret {
		t.Errorf("[keel] = %v, want the new key", ini["keel"])
	}
	if ini["default"]["aws_access_key_id"] != "AKIAREALKEY" || ini["other"]["aws_access_key_id"] != "AKIAOTHER" || len(ini) != 3 {
		t.Errorf("other profiles changed: %v", ini)
	}
	checkMode(t, path, 0o600)

	// A new profile is appended; a symlinked file stays a symlink.
	link := filepath.Join(dir, "link")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteCredentialsFile(link, key, "added"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a symlink (%v)", link, err)
	}
	if ini := parseINI(t, path); len(ini) != 4 || ini["added"]["aws_access_key_id"] != key.ID {
		t.Errorf("after appending: %v", ini)
	}
}

func TestWriteCredentialsFileRejects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	good := Key{ID: "KEELNEW0000000000000", Secret: strings.Repeat("n", 40)}
	for _, tt := range []struct {
		name    string
		key     Key
		profile string
	}{
		{"bracket in profile", good, "a]b"},
		{"newline in profile", good, "a\nb"},
		{"padded profile", good, " a"},
		{"no secret", Key{ID: "KEELX"}, ""},
		{"space in id", Key{ID: "KEEL X", Secret: "s"}, ""},
	} {
		if err := WriteCredentialsFile(path, tt.key, tt.profile); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: WriteCredentialsFile = %v, want an error naming %s", tt.name, err, path)
		}
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a refused write left a file behind")
	}
}
