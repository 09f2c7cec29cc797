package image

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/store"
	"github.com/keelvm/keel/internal/testutil"
)

// TestJarRuntime: a JAR gets a runtime jlinked with the modules jdeps
// finds, in the JARs inside it too (a Spring Boot JAR, a WAR with an
// embedded server), with its trust store; when jdeps cannot tell, the
// whole JRE, with a note; -jre must be a runtime.
func TestJarRuntime(t *testing.T) {
	f := setup(t)
	for _, tool := range []string{"javac", "jar", "jlink", "jdeps"} {
		if _, err := exec.LookPath(tool); err != nil {
			testutil.Unavailable(t, "%s not installed: the test builds and links a JAR", tool)
		}
	}
	dir := t.TempDir()
	// The library uses java.sql; the outer JAR's own class only java.base.
	os.MkdirAll(filepath.Join(dir, "lib"), 0o755)
	os.WriteFile(filepath.Join(dir, "lib", "Db.java"), []byte("public class Db { public static Object t() { return new java.sql.Timestamp(0); } }\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Main.java"), []byte("public class Main { public static void main(String[] a) { System.out.println(\"hi\"); } }\n"), 0o644)
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run("javac", "-d", "libclasses", "lib/Db.java")
	run("jar", "--create", "--file", "db.jar", "-C", "libclasses", ".")
	run("javac", "-d", "classes", "Main.java")
	os.MkdirAll(filepath.Join(dir, "classes", "BOOT-INF", "lib"), 0o755)
	b, _ := os.ReadFile(filepath.Join(dir, "db.jar"))
	os.WriteFile(filepath.Join(dir, "classes", "BOOT-INF", "lib", "db.jar"), b, 0o644)
	run("jar", "--create", "--file", "app.jar", "--main-class", "Main", "-C", "classes", ".")
	// A JDK without jmods, as a JRE is: links to the host JDK's bin, lib
	// and conf, which are copied whole.
	home, err := javaHome()
	if err != nil {
		t.Fatal(err)
	}
	jre := filepath.Join(dir, "jre")
	os.MkdirAll(jre, 0o755)
	for _, d := range []string{"bin", "lib", "conf", "release"} {
		os.Symlink(filepath.Join(home, d), filepath.Join(jre, d))
	}

	runtimes := t.TempDir()
	cases := []struct {
		name, app, jre string
		javaHome       string
		modules, note  string
		noNote         string
		err            string
	}{
		{name: "nested jar", app: filepath.Join(dir, "app.jar"), modules: " java.sql jdk.crypto.ec"},
		{name: "no jmods", app: filepath.Join(dir, "app.jar"), javaHome: jre, note: "this JDK has no jmods directory for jlink: the image gets the whole Java runtime", noNote: "src.zip"},
		{name: "jre without java", app: filepath.Join(dir, "app.jar"), jre: dir, err: "no bin/java in it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.javaHome != "" {
				t.Setenv("JAVA_HOME", tc.javaHome)
			}
			var progress bytes.Buffer
			ref, _ := store.ParseRef("test/jar:1")
			fu := Fuse{App: tc.app, Ref: ref, Init: f.init, Store: store.Store{Dir: t.TempDir()}, Certs: "no", JRE: tc.jre, Runtimes: runtimes, Progress: &progress}
			p, err := fu.prepare()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, progress.String())
			}
			if p.cfg.App != "/app/jre/bin/java" || strings.Join(p.cfg.Args, " ") != "-jar /app/"+filepath.Base(tc.app) || p.app.Runtime != "java" {
				t.Fatalf("runs %s %q, runtime %q", p.cfg.App, p.cfg.Args, p.app.Runtime)
			}
			have := map[string]initramfs.Entry{}
			for _, e := range p.files {
				have[e.Path] = e
			}
			for _, must := range []string{"/app/jre/lib/security/cacerts", "/app/jre/lib/server/libjvm.so", "/lib/x86_64-linux-gnu/libstdc++.so.6"} {
				if have[must].Kind != initramfs.File {
					t.Errorf("the image lacks the file %s", must)
				}
			}
			if tc.modules != "" {
				rel, _ := os.ReadFile(have["/app/jre/release"].Source)
				if !strings.Contains(string(rel), tc.modules) {
					t.Errorf("runtime's release: %s, want %s", rel, tc.modules)
				}
				if have["/app/jre/lib/server/classes.jsa"].Kind != initramfs.File {
					t.Error("the jlinked runtime has no class data sharing archive")
				}
			}
			if tc.noNote != "" && strings.Contains(progress.String(), tc.noNote) {
				t.Errorf("progress has %q:\n%s", tc.noNote, progress.String())
			}
			if !strings.Contains(progress.String(), tc.note) {
				t.Errorf("progress lacks %q:\n%s", tc.note, progress.String())
			}
		})
	}
}
