package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/image/initramfs"
)

// multiProfile is a ~/.aws/credentials with more keys than the image may get.
const multiProfile = "[admin]\naws_access_key_id = AKIAADMINADMINADMIN1\naws_secret_access_key = adminsecret\n\n" +
	"[default]\n# the VM's key\naws_access_key_id = KEELAAAAAAAAAAAAAAAA\naws_secret_access_key = s3cret\nregion = eu-west-1\n\n" +
	"[other]\naws_access_key_id = AKIAOTHEROTHEROTHER1\naws_secret_access_key = othersecret\n"

const defaultOnly = "[default]\naws_access_key_id = KEELAAAAAAAAAAAAAAAA\naws_secret_access_key = s3cret\n"

func TestReadKeyFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, text, want, err string }{
		{"a key", defaultOnly, defaultOnly, ""},
		{"many profiles", multiProfile, defaultOnly, ""},
		{"other profile only", "[vm]\naws_access_key_id = K\naws_secret_access_key = s\n", "", "no aws_access_key_id"},
		{"no secret", "[default]\naws_access_key_id = K\n", "", "keel logserver key create"},
		{"session", "[default]\naws_access_key_id = ASIAX\naws_secret_access_key = s\naws_session_token = tok\n", "", "session credentials (aws_session_token), which expire"},
		{"missing", "", "", "no such file"},
	} {
		p := filepath.Join(dir, tc.name)
		if tc.text != "" {
			os.WriteFile(p, []byte(tc.text), 0o600)
		}
		got, err := readKeyFile(p)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		}
		if string(got) != tc.want {
			t.Errorf("%s: image gets %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestFuseKeyOnlyDefault fuses with a multi-profile credentials file and
// reads the initramfs back: it holds [default]'s id and secret and no other
// profile's.
func TestFuseKeyOnlyDefault(t *testing.T) {
	homeDir, initBin, hello := fuseHome(t)
	creds := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(creds, []byte(multiProfile), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := keelEnv(t, homeDir, []string{"KEEL_INIT=" + initBin}, "fuse", hello, "-name", "test/key:1", "-logs.credentials", creds); r.code != 0 {
		t.Fatalf("fuse -logs.credentials: %+v", r)
	}
	f, err := os.Open(filepath.Join(homeDir, "images", "test", "key", "1", "initrd.img"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := initramfs.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		for _, s := range []string{"AKIAADMINADMINADMIN1", "adminsecret", "AKIAOTHEROTHEROTHER1", "othersecret"} {
			if strings.Contains(string(e.Data), s) {
				t.Errorf("initrd.img %s holds %q of another profile", e.Path, s)
			}
		}
		if e.Path == bootcfg.DefaultCredentials {
			found = true
			if string(e.Data) != defaultOnly || e.Mode&0o777 != 0o600 {
				t.Errorf("%s: mode %o, %q; want 0600, %q", e.Path, e.Mode, e.Data, defaultOnly)
			}
		}
	}
	if !found {
		t.Errorf("initrd.img has no %s", bootcfg.DefaultCredentials)
	}
}
