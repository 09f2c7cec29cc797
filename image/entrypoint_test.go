package image

import (
	"archive/zip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/store"
	"github.com/keelvm/keel/internal/testutil"
)

// TestFuseEntrypoints: #! scripts run with the directory's interpreter;
// other programs that are no ELF are refused with what to fuse instead;
// a library found nowhere names the file that needs it.
func TestFuseEntrypoints(t *testing.T) {
	f := setup(t)
	dash, err := exec.LookPath("dash")
	if err != nil {
		testutil.Unavailable(t, "dash not installed: the test puts it in a directory app")
	}
	dashBin, _ := os.ReadFile(dash)
	dir := t.TempDir()
	mk := func(name string, files map[string]string) string {
		d := filepath.Join(dir, name)
		for p, content := range files {
			os.MkdirAll(filepath.Dir(filepath.Join(d, p)), 0o755)
			mode := os.FileMode(0o755)
			if content == "dash" {
				content = string(dashBin)
			}
			os.WriteFile(filepath.Join(d, p), []byte(content), mode)
		}
		return d
	}
	// A module needing a library the host does not have.
	gone := filepath.Join(dir, "gone")
	os.MkdirAll(gone, 0o755)
	os.WriteFile(filepath.Join(gone, "gone.c"), []byte("int gone(void) { return 1; }\n"), 0o644)
	os.WriteFile(filepath.Join(gone, "plugin.c"), []byte("int gone(void); int plugin(void) { return gone(); }\n"), 0o644)
	broken := mk("broken", map[string]string{"bin/sh": "dash", "run.sh": "#!/bin/sh\necho hi\n"})
	for _, c := range [][]string{{"-shared", "-fPIC", "-o", "libgone.so", "gone.c"}, {"-shared", "-fPIC", "-o", filepath.Join(broken, "lib", "plugin.so"), "plugin.c", "-L.", "-lgone"}} {
		os.MkdirAll(filepath.Join(broken, "lib"), 0o755)
		cmd := exec.Command("gcc", c...)
		cmd.Dir = gone
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gcc %v: %v\n%s", c, err, out)
		}
	}
	jar := filepath.Join(dir, "nomain.jar")
	if jf, err := os.Create(jar); err == nil {
		zw := zip.NewWriter(jf)
		w, _ := zw.Create("META-INF/MANIFEST.MF")
		w.Write([]byte("Manifest-Version: 1.0\r\n"))
		zw.Close()
		jf.Close()
	}
	cases := []struct {
		name, app, entry string
		prog, runtime    string
		lead             string
		link             string // a symlink the image must have: path -> target
		err              string
	}{
		{name: "sh script with dash", app: mk("sh", map[string]string{"bin/dash": "dash", "run.sh": "#!/bin/sh\necho hi\n"}), entry: "run.sh",
			prog: "/app/run.sh", runtime: "shell", link: "/bin/sh -> /app/bin/dash"},
		{name: "script for the directory's path", app: mk("own", map[string]string{"bin/dash": "dash", "run.sh": "#!/app/bin/dash\necho hi\n"}), entry: "run.sh",
			prog: "/app/run.sh", runtime: "shell"},
		{name: "env script", app: mk("env", map[string]string{"tools/dash": "dash", "run.sh": "#!/usr/bin/env dash\necho hi\n"}), entry: "run.sh",
			prog: "/app/tools/dash", lead: "/app/run.sh", runtime: "shell"},
		{name: "script without its interpreter", app: mk("noshell", map[string]string{"run.sh": "#!/bin/sh\necho hi\n"}), entry: "run.sh",
			err: "put a shell in the directory: dash or busybox as bin/sh"},
		{name: "script for a missing program", app: mk("noperl", map[string]string{"bin/dash": "dash", "run.pl": "#!/usr/bin/perl\n"}), entry: "run.pl",
			err: "is a script for /usr/bin/perl, which is not in the directory"},
		{name: "script alone", app: filepath.Join(mk("alone", map[string]string{"run.sh": "#!/bin/sh\n"}), "run.sh"),
			err: "fuse a directory that holds the script and its interpreter"},
		{name: "javascript", app: filepath.Join(mk("js", map[string]string{"app.js": "console.log(1)\n"}), "app.js"),
			err: "fuse the directory that holds node and the script, with -entrypoint bin/node and the script as an argument (keel fuse DIR -entrypoint bin/node -name ... -- /app/app.js)"},
		{name: "python in a directory", app: mk("py", map[string]string{"app.py": "print(1)\n"}), entry: "app.py",
			err: "with -entrypoint bin/python3 and the script as an argument (keel fuse DIR -entrypoint bin/python3 -name ... -- /app/app.py)"},
		{name: "jar as entrypoint", app: mk("jar", map[string]string{"app.jar": "PK"}), entry: "app.jar", err: "fuse the JAR itself"},
		{name: "jar without Main-Class", app: jar, err: "names no Main-Class"},
		{name: "missing library", app: broken, entry: "run.sh",
			err: filepath.Join(broken, "lib", "plugin.so") + " needs shared library libgone.so, which is neither in the app's directory nor on this host"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref, _ := store.ParseRef("test/entry:" + string(rune('a'+i)))
			fu := Fuse{App: tc.app, Entrypoint: tc.entry, Ref: ref, Init: f.init, Store: store.Store{Dir: t.TempDir()}, Certs: "no"}
			p, err := fu.prepare()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.cfg.App != tc.prog || strings.Join(p.cfg.Args, " ") != tc.lead || p.app.Runtime != tc.runtime {
				t.Fatalf("runs %s %q, runtime %q; want %s %q, %q", p.cfg.App, p.cfg.Args, p.app.Runtime, tc.prog, tc.lead, tc.runtime)
			}
			if tc.link != "" {
				found := false
				for _, e := range p.files {
					if e.Kind == initramfs.Symlink && e.Path+" -> "+string(e.Data) == tc.link {
						found = true
					}
				}
				if !found {
					t.Fatalf("the image lacks %s", tc.link)
				}
			}
		})
	}
}
