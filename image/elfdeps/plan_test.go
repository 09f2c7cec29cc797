package elfdeps

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keelvm/keel/internal/testutil"
)

// planTree builds an app directory and a host library directory: the
// program bin/prog needs libfoo, libfoo needs libbar, with the given
// linker flags; where each library goes is set by the case.
type planCase struct {
	name      string
	progFlags []string
	fooFlags  []string
	foo, bar  string // "app" (lib/ of the app), "host" (the host directory), "both", or "" (nowhere)
	plugin    bool   // also a module lib/plugin.so needing libz from the system
	want      []string
	err       string
}

func TestPlan(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		testutil.Unavailable(t, "gcc not installed: the test builds programs with RPATH and RUNPATH")
	}
	cases := []planCase{
		{name: "runpath origin", progFlags: []string{"-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib"}, foo: "app", bar: "app",
			// libfoo has no search path of its own: the loader would not
			// find libbar through the program's RUNPATH; the directory's
			// copy is found and linked where the image's loader looks.
			want: []string{"link /lib/x86_64-linux-gnu/libbar.so -> /app/lib/libbar.so", "!link /lib/x86_64-linux-gnu/libfoo.so"}},
		{name: "rpath inherited", progFlags: []string{"-Wl,--disable-new-dtags,-rpath,$ORIGIN/../lib"}, foo: "app", bar: "app",
			want: []string{"!link /lib/x86_64-linux-gnu/libbar.so", "!link /lib/x86_64-linux-gnu/libfoo.so"}},
		{name: "library's own runpath", fooFlags: []string{"-Wl,--enable-new-dtags,-rpath,$ORIGIN"}, progFlags: []string{"-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib"}, foo: "app", bar: "app",
			want: []string{"!link /lib/x86_64-linux-gnu/libbar.so"}},
		{name: "directory's copy first", progFlags: []string{"-Wl,--enable-new-dtags,-rpath,HOST"}, fooFlags: []string{"-Wl,--enable-new-dtags,-rpath,HOST"}, foo: "both", bar: "both",
			// The absolute RUNPATH names the host's copies; the image
			// takes the directory's own.
			want: []string{"link /lib/x86_64-linux-gnu/libfoo.so -> /app/lib/libfoo.so", "link /lib/x86_64-linux-gnu/libbar.so -> /app/lib/libbar.so", "!lib libfoo.so"}},
		{name: "absolute runpath into the directory", progFlags: []string{"-Wl,--enable-new-dtags,-rpath,APP/lib"}, fooFlags: []string{"-Wl,--enable-new-dtags,-rpath,APP/lib"}, foo: "app", bar: "app",
			// pyenv's python: RUNPATH /root/.pyenv/versions/3.11.7/lib, a
			// path the image does not have; the directory's lib/ is /app/lib.
			want: []string{"link /lib/x86_64-linux-gnu/libfoo.so -> /app/lib/libfoo.so", "link /lib/x86_64-linux-gnu/libbar.so -> /app/lib/libbar.so", "!lib libfoo.so"}},
		{name: "host runpath", progFlags: []string{"-Wl,--enable-new-dtags,-rpath,HOST"}, fooFlags: []string{"-Wl,--enable-new-dtags,-rpath,HOST"}, foo: "host", bar: "host",
			// At their host path, which the RUNPATH names in the image too.
			want: []string{"lib libfoo.so HOST/libfoo.so", "lib libbar.so HOST/libbar.so", "!link /lib/x86_64-linux-gnu/libfoo.so"}},
		{name: "host library off the image's path", foo: "host", bar: "host",
			// Found through ld.so.conf on the host; the image has no
			// ld.so.cache: a link where its loader looks.
			want: []string{"lib libfoo.so HOST/libfoo.so", "link /lib/x86_64-linux-gnu/libfoo.so -> HOST/libfoo.so"}},
		{name: "module and glibc", progFlags: []string{"-Wl,-rpath,$ORIGIN/../lib"}, fooFlags: []string{"-Wl,-rpath,$ORIGIN"}, foo: "app", bar: "app", plugin: true,
			want: []string{"lib libz.so.1", "lib libc.so.6", "lib libnss_files.so.2", "lib libnss_dns.so.2", "lib libgcc_s.so.1", "interp /lib64/ld-linux-x86-64.so.2"}},
		{name: "missing", progFlags: []string{"-Wl,-rpath,$ORIGIN/../lib"}, fooFlags: []string{"-Wl,-rpath,$ORIGIN"}, foo: "app", bar: "",
			err: "lib/libfoo.so (needed by APP/bin/prog) needs shared library libbar.so, which is neither in the app's directory nor on this host"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app, host := t.TempDir(), t.TempDir()
			src := t.TempDir()
			for _, d := range []string{"bin", "lib"} {
				os.MkdirAll(filepath.Join(app, d), 0o755)
			}
			os.WriteFile(filepath.Join(src, "bar.c"), []byte("int bar(void) { return 2; }\n"), 0o644)
			os.WriteFile(filepath.Join(src, "foo.c"), []byte("int bar(void); int foo(void) { return bar() + 1; }\n"), 0o644)
			os.WriteFile(filepath.Join(src, "main.c"), []byte("int foo(void); int main(void) { return foo() == 3 ? 0 : 1; }\n"), 0o644)
			os.WriteFile(filepath.Join(src, "plugin.c"), []byte("#include <zlib.h>\nconst char *v(void) { return zlibVersion(); }\n"), 0o644)
			gcc := func(args ...string) {
				t.Helper()
				for i, a := range args {
					args[i] = strings.ReplaceAll(strings.ReplaceAll(a, "HOST", host), "APP", app)
				}
				cmd := exec.Command("gcc", args...)
				cmd.Dir = src
				if b, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("gcc %v: %v\n%s", args, err, b)
				}
			}
			build := filepath.Join(src, "out")
			os.MkdirAll(build, 0o755)
			gcc("-shared", "-fPIC", "-o", filepath.Join(build, "libbar.so"), "bar.c")
			gcc(append([]string{"-shared", "-fPIC", "-o", filepath.Join(build, "libfoo.so"), "foo.c", "-L" + build, "-lbar"}, tc.fooFlags...)...)
			gcc(append([]string{"-o", filepath.Join(app, "bin", "prog"), "main.c", "-L" + build, "-Wl,-rpath-link," + build, "-lfoo"}, tc.progFlags...)...)
			if tc.plugin {
				gcc("-shared", "-fPIC", "-o", filepath.Join(app, "lib", "plugin.so"), "plugin.c", "-lz")
			}
			place := func(lib, where string) {
				b, _ := os.ReadFile(filepath.Join(build, lib))
				if where == "app" || where == "both" {
					os.WriteFile(filepath.Join(app, "lib", lib), b, 0o755)
				}
				if where == "host" || where == "both" {
					os.WriteFile(filepath.Join(host, lib), b, 0o755)
				}
			}
			place("libfoo.so", tc.foo)
			place("libbar.so", tc.bar)
			l := Layout{Files: map[string]string{}, Roots: []string{app}, Prefix: "/app"}
			filepath.WalkDir(app, func(p string, d fs.DirEntry, err error) error {
				if d.Type().IsRegular() {
					rel, _ := filepath.Rel(app, p)
					l.Files["/app/"+rel] = p
					if strings.HasPrefix(rel, "bin/") || rel == "lib/plugin.so" {
						l.Objects = append(l.Objects, Object{Host: p, Guest: "/app/" + rel})
					}
				}
				return nil
			})
			r := &Resolver{Dirs: []string{host, "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"}}
			plan, err := r.Plan(l)
			if tc.err != "" {
				want := strings.ReplaceAll(tc.err, "APP", app)
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v, want %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, p := range plan.Interps {
				lines = append(lines, "interp "+p.Guest+" "+p.Host)
			}
			for _, p := range plan.Libs {
				lines = append(lines, "lib "+p.Name+" "+p.Guest)
				if p.Guest != strings.TrimPrefix(p.Host, r.Root) {
					t.Errorf("%s is not at its host path %s", p.Guest, p.Host)
				}
			}
			for _, k := range plan.Links {
				lines = append(lines, "link "+k.Guest+" -> "+k.Target)
			}
			all := strings.Join(lines, "\n") + "\n"
			for _, w := range tc.want {
				w = strings.ReplaceAll(w, "HOST", host)
				if strings.HasPrefix(w, "!") {
					if strings.Contains(all, w[1:]) {
						t.Errorf("plan has %q:\n%s", w[1:], all)
					}
				} else if !strings.Contains(all, w) {
					t.Errorf("plan lacks %q:\n%s", w, all)
				}
			}
		})
	}
}
