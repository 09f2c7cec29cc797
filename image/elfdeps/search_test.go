package elfdeps

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keelvm/keel/internal/testutil"
)

// searchTree builds dir/opt/bin/<prog> and dir/opt/lib/{libfoo,libbar}.so,
// where the program needs libfoo and libfoo needs libbar, with the given
// linker flags for the program and for libfoo, and a symlink
// dir/link/<prog> to the program. It returns dir.
func searchTree(t *testing.T, prog string, progFlags, fooFlags []string) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		testutil.Unavailable(t, "gcc not installed: the test builds programs with RPATH and RUNPATH")
	}
	dir := t.TempDir()
	for _, d := range []string{"src", "opt/bin", "opt/lib", "link"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	src := map[string]string{
		"bar.c":  "int bar(void) { return 2; }\n",
		"foo.c":  "int bar(void); int foo(void) { return bar() + 1; }\n",
		"main.c": "int foo(void); int main(void) { return foo() == 3 ? 0 : 1; }\n",
	}
	for name, s := range src {
		os.WriteFile(filepath.Join(dir, "src", name), []byte(s), 0o644)
	}
	lib := filepath.Join(dir, "opt/lib")
	gcc := func(args ...string) {
		t.Helper()
		cmd := exec.Command("gcc", args...)
		cmd.Dir = filepath.Join(dir, "src")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gcc %v: %v\n%s", args, err, b)
		}
	}
	gcc("-shared", "-fPIC", "-o", filepath.Join(lib, "libbar.so"), "bar.c")
	gcc(append([]string{"-shared", "-fPIC", "-o", filepath.Join(lib, "libfoo.so"), "foo.c", "-L" + lib, "-lbar"}, fooFlags...)...)
	exe := filepath.Join(dir, "opt/bin", prog)
	gcc(append([]string{"-o", exe, "main.c", "-L" + lib, "-lfoo"}, progFlags...)...)
	if err := os.Symlink("../opt/bin/"+prog, filepath.Join(dir, "link", prog)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkLoads runs exe (the dynamic loader is the reference for what is
// found) and checks that Inspect finds libfoo and libbar in opt/lib.
func checkLoads(t *testing.T, dir, exe string) {
	t.Helper()
	if out, err := exec.Command(exe).CombinedOutput(); err != nil {
		t.Fatalf("the loader itself fails to run %s: %v\n%s", exe, err, out)
	}
	// No default directories: only what the binaries name may be found.
	r := &Resolver{Dirs: []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"}}
	info, err := r.Inspect(exe)
	if err != nil {
		t.Fatalf("Inspect(%s): %v", exe, err)
	}
	got := map[string]string{}
	for _, l := range info.Libs {
		got[l.Name] = l.Path
	}
	for _, name := range []string{"libfoo.so", "libbar.so"} {
		p, err := filepath.EvalSymlinks(got[name])
		want := filepath.Join(dir, "opt/lib", name)
		if err != nil || p != want {
			t.Errorf("%s found at %q, want %s", name, got[name], want)
		}
	}
}

// TestRPATHInherited: a DT_RPATH (not DT_RUNPATH) of the executable is
// searched for the dependencies of its libraries too, as the loader does:
// libfoo, which names no search path, finds libbar through it.
func TestRPATHInherited(t *testing.T) {
	dir := searchTree(t, "app", []string{"-Wl,--disable-new-dtags,-rpath,$ORIGIN/../lib"}, nil)
	checkLoads(t, dir, filepath.Join(dir, "opt/bin/app"))
}

// TestRUNPATHNotInherited: a DT_RUNPATH applies to the object's own
// dependencies only; the loader fails on libbar, and so must Inspect.
func TestRUNPATHNotInherited(t *testing.T) {
	// -rpath-link: the link editor, too, needs to find libbar.
	dir := searchTree(t, "app", []string{"-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib,-rpath-link,../opt/lib"}, nil)
	exe := filepath.Join(dir, "opt/bin/app")
	if err := exec.Command(exe).Run(); err == nil {
		t.Fatal("the loader found libbar through the executable's RUNPATH")
	}
	r := &Resolver{Dirs: []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"}}
	if _, err := r.Inspect(exe); err == nil || !strings.Contains(err.Error(), "libbar.so") {
		t.Fatalf("Inspect: %v, want an error naming libbar.so", err)
	}
}

// TestOriginOfSymlinkedExecutable: $ORIGIN of the executable is the
// directory of the file itself, symlinks resolved (the loader takes it
// from /proc/self/exe), not that of a symlink the user names it by.
func TestOriginOfSymlinkedExecutable(t *testing.T) {
	for _, tc := range []struct{ name, dtags string }{{"runpath", "--enable-new-dtags"}, {"rpath", "--disable-new-dtags"}} {
		t.Run(tc.name, func(t *testing.T) {
			flags := []string{"-Wl," + tc.dtags + ",-rpath,$ORIGIN/../lib"}
			dir := searchTree(t, "app", flags, []string{"-Wl," + tc.dtags + ",-rpath,$ORIGIN"})
			checkLoads(t, dir, filepath.Join(dir, "link/app"))
		})
	}
}
