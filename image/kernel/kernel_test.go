package kernel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocal(t *testing.T) {
	cases := []struct {
		name  string
		files []string
		err   string
	}{
		{"package layout", []string{"boot/vmlinuz-6.1.0-1-amd64", "lib/modules/6.1.0-1-amd64/modules.dep"}, ""},
		{"no kernel", []string{"lib/modules/6.1.0-1-amd64/modules.dep"}, "want exactly one boot/vmlinuz-VERSION, found 0"},
		{"two kernels", []string{"boot/vmlinuz-6.1.0-1-amd64", "boot/vmlinuz-6.1.0-2-amd64"}, "found 2"},
		{"no modules", []string{"boot/vmlinuz-6.1.0-1-amd64"}, "modules of 6.1.0-1-amd64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range tc.files {
				p := filepath.Join(root, f)
				os.MkdirAll(filepath.Dir(p), 0o755)
				os.WriteFile(p, []byte("x"), 0o644)
			}
			k, err := Local(root)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Version != "6.1.0-1-amd64" || k.Modules != filepath.Join(root, "lib/modules/6.1.0-1-amd64") || len(k.SHA256) != 64 {
				t.Fatalf("%+v", k)
			}
		})
	}
}

// TestLoadDetectsDamage: a cached kernel whose bytes changed is refused
// with the way out.
func TestLoadDetectsDamage(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "boot"), 0o755)
	os.WriteFile(filepath.Join(dir, "boot", "vmlinuz-6.1.0-1-amd64"), []byte("changed"), 0o644)
	os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"Version":"6.1.0-1-amd64","Package":"linux-image-6.1.0-1-amd64","VmlinuzSHA256":"00"}`), 0o644)
	if _, err := load(dir); err == nil || !strings.Contains(err.Error(), "is damaged") || !strings.Contains(err.Error(), "delete the directory") {
		t.Fatalf("err = %v", err)
	}
}

// TestEnsureDamagedCacheSaysSo: a damaged kernel in the cache is reported
// with what to do, not fetched again on every call (the fetch could not
// replace it anyway).
func TestEnsureDamagedCacheSaysSo(t *testing.T) {
	cache := t.TempDir()
	name := "linux-image-6.1.0-1-amd64"
	dir := filepath.Join(cache, name)
	os.MkdirAll(filepath.Join(dir, "boot"), 0o755)
	os.WriteFile(filepath.Join(dir, "boot", "vmlinuz-6.1.0-1-amd64"), []byte("changed"), 0o644)
	os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"Version":"6.1.0-1-amd64","Package":"`+name+`","VmlinuzSHA256":"00"}`), 0o644)
	var progress strings.Builder
	_, err := Ensure(cache, name, &progress)
	if err == nil || !strings.Contains(err.Error(), "is damaged") || strings.Contains(progress.String(), "fetching") {
		t.Fatalf("Ensure over a damaged cache: %v; progress %q", err, progress.String())
	}
}

func TestCheckInitramfs(t *testing.T) {
	cases := []struct {
		name   string
		config string // "" for no configuration file
		err    string
	}{
		{"zstd built in", "CONFIG_RD_GZIP=y\nCONFIG_RD_ZSTD=y\n", ""},
		{"zstd not set", "CONFIG_RD_GZIP=y\n# CONFIG_RD_ZSTD is not set\n", "lacks CONFIG_RD_ZSTD=y"},
		{"older kernel", "CONFIG_RD_GZIP=y\nCONFIG_RD_XZ=y\n", "lacks CONFIG_RD_ZSTD=y"},
		{"no configuration file", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.config != "" {
				os.MkdirAll(filepath.Join(dir, "boot"), 0o755)
				os.WriteFile(filepath.Join(dir, "boot", "config-6.1.0-1-amd64"), []byte(tc.config), 0o644)
			}
			err := (&Kernel{Version: "6.1.0-1-amd64", Dir: dir}).CheckInitramfs()
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}
