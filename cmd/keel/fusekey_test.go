package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadKeyFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, text, err string }{
		{"a key", "[default]\naws_access_key_id = KEELAAAAAAAAAAAAAAAA\naws_secret_access_key = s3cret\n", ""},
		{"other profile only", "[vm]\naws_access_key_id = K\naws_secret_access_key = s\n", "no aws_access_key_id"},
		{"no secret", "[default]\naws_access_key_id = K\n", "keel logserver key create"},
		{"missing", "", "no such file"},
	} {
		p := filepath.Join(dir, tc.name)
		if tc.text != "" {
			os.WriteFile(p, []byte(tc.text), 0o600)
		}
		_, err := readKeyFile(p)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		}
	}
}
