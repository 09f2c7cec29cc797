package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keelvm/keel/internal/testutil"
)

// need returns the host path of a tool the test needs: missing, a
// failure on CI and a skip elsewhere.
func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		testutil.Unavailable(t, "%s is not installed: the test runs it in a VM", tool)
	}
	return p
}

// TestQEMUJar fuses a JAR compiled here (keel fuse app.jar: a runtime
// jlinked from this host's JDK) and runs it: its lines and stack trace
// reach the log server, and it loads the TLS trust store (cacerts).
func TestQEMUJar(t *testing.T) {
	javac, jarTool := need(t, "javac"), need(t, "jar")
	need(t, "jlink")
	homeDir, initBin, _ := fuseHome(t)
	t.Cleanup(func() { keel(t, homeDir, "logserver", "stop") })
	src := t.TempDir()
	jar := filepath.Join(src, "hello.jar")
	writeJavaHello(t, javac, jarTool, src, jar)
	env := []string{"KEEL_INIT=" + initBin}
	r := keelEnv(t, homeDir, env, "fuse", jar, "-name", "test/jar:1", "-v", "--", "world")
	if r.code != 0 || !strings.Contains(r.stderr, "jlink") || !strings.Contains(r.stderr, "+ /lib/x86_64-linux-gnu/libstdc++.so.6 (from the host, for /app/jre/lib/server/libjvm.so)") {
		t.Fatalf("fuse: %+v", r)
	}
	m := manifest(t, homeDir, "test/jar/1")
	if m.App.Runtime != "java" || m.App.Path != "/app/jre/bin/java" || strings.Join(m.Config.Args, " ") != "-jar /app/hello.jar world" {
		t.Fatalf("manifest app %+v, args %q", m.App, m.Config.Args)
	}
	r = keel(t, homeDir, "run", "test/jar:1") // the default memory is enough
	if r.code != 0 {
		t.Fatalf("run: %+v", r)
	}
	logs := keel(t, homeDir, "logs", "test/jar", "-since", "10m").stdout
	for _, w := range []string{"hello, world, from java 17", "cacerts: loaded", "java.lang.IllegalStateException: on purpose", "at Hello.main(Hello.java", "done"} {
		if !strings.Contains(logs, w) {
			t.Fatalf("the logs lack %q:\n%s\nrun:\n%s", w, logs, r.stdout+r.stderr)
		}
	}
}

func writeJavaHello(t *testing.T, javac, jarTool, dir, jar string) {
	t.Helper()
	src := `import java.io.FileInputStream;
import java.security.KeyStore;
public class Hello {
    public static void main(String[] args) throws Exception {
        System.out.println("hello, " + args[0] + ", from java " + System.getProperty("java.version"));
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        try (FileInputStream in = new FileInputStream(System.getProperty("java.home") + "/lib/security/cacerts")) {
            ks.load(in, null);
        }
        System.out.println("cacerts: loaded, " + ks.size() + " certificates");
        try { throw new IllegalStateException("on purpose"); } catch (Exception e) { e.printStackTrace(); }
        System.out.println("done");
    }
}
`
	os.WriteFile(filepath.Join(dir, "Hello.java"), []byte(src), 0o644)
	for _, c := range [][]string{{javac, "-d", filepath.Join(dir, "out"), filepath.Join(dir, "Hello.java")},
		{jarTool, "--create", "--file", jar, "--main-class", "Hello", "-C", filepath.Join(dir, "out"), "."}} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
}

type testManifest struct {
	App struct {
		Path, Kind, Runtime string
		Libs                []string
	}
	Config struct{ Args []string }
	Files  []struct{ Path, Mode string }
	// AppDisk lists the files on the app disk, when there is one:
	// manifest adds them to Files.
	AppDisk *struct {
		Files []struct{ Path, Mode string }
	} `json:"app_disk"`
}

func manifest(t *testing.T, homeDir, image string) testManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(homeDir, "images", image, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m testManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.AppDisk != nil {
		m.Files = append(m.Files, m.AppDisk.Files...)
	}
	return m
}

// TestQEMURuntimes boots one directory app that shares a boot between
// three runtimes of this host: a #! shell script (dash in the directory,
// as /bin/sh) runs Node.js (/usr/bin/node and its libraries), then execs
// CPython (the interpreter, libpython and the part of the stdlib it needs)
// with a script that imports zlib, ssl, ctypes and json, whose extension
// modules need libz, libssl and libffi from the host, and serves one HTTP
// request through keel run -port. python3 is a hard link to python3.11.
func TestQEMURuntimes(t *testing.T) {
	node, dash := need(t, "node"), need(t, "dash")
	python := need(t, "python3")
	homeDir, initBin, _ := fuseHome(t)
	t.Cleanup(func() { keel(t, homeDir, "logserver", "stop") })
	app := filepath.Join(t.TempDir(), "app")
	pythonDir(t, python, app)
	copyFile(t, node, filepath.Join(app, "bin", "node"))
	copyFile(t, dash, filepath.Join(app, "bin", "dash"))
	write := func(name, s string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(app, name), []byte(s), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("start.sh", `#!/bin/sh
echo "shell: $0 started"
/app/bin/node /app/hello.js
echo "shell: node exited with $?"
exec /app/bin/python3 /app/server.py
`, 0o755)
	write("hello.js", `const crypto = require('crypto');
console.log('node ' + process.version + ' sha256 ' + crypto.createHash('sha256').update('keel').digest('hex').slice(0, 12));
console.error(new Error('node on purpose').stack);
`, 0o644)
	write("server.py", `import ctypes, json, ssl, sys, zlib
from http.server import BaseHTTPRequestHandler, HTTPServer
libc = ctypes.CDLL("libc.so.6")
ctx = ssl.create_default_context()
print(json.dumps({"python": sys.version.split()[0], "zlib": zlib.ZLIB_RUNTIME_VERSION, "ssl": ssl.OPENSSL_VERSION, "pid": libc.getpid() > 0, "cas": ctx.cert_store_stats()["x509_ca"]}), flush=True)
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = zlib.decompress(zlib.compress(b"hello from python\n"))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
srv = HTTPServer(("", 8080), H)
print("python: listening", flush=True)
srv.handle_request()
print("python: served one request", flush=True)
`, 0o644)
	env := []string{"KEEL_INIT=" + initBin}
	t0 := time.Now()
	r := keelEnv(t, homeDir, env, "fuse", app, "-entrypoint", "start.sh", "-name", "test/runtimes:1", "-v")
	if r.code != 0 {
		t.Fatalf("fuse: %+v", r)
	}
	t.Logf("fused in %v", time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	for _, w := range []string{"+ /lib/x86_64-linux-gnu/libz.so.1 (from the host, for /app/lib/python3.", "libssl.so.3 (from the host", "libffi.so.8 (from the host",
		"+ /lib/x86_64-linux-gnu/libpython3."} {
		if !strings.Contains(r.stderr, w) {
			t.Fatalf("fuse -v lacks %q:\n%s", w, r.stderr)
		}
	}
	m := manifest(t, homeDir, "test/runtimes/1")
	files := map[string]string{}
	for _, f := range m.Files {
		files[f.Path] = f.Mode
	}
	if m.App.Runtime != "shell" || files["/bin/sh"] != "0777 symlink" || !strings.Contains(files["/app/bin/python3"]+files["/app/bin/python3.11"], "0755 hardlink /app/bin/python3") {
		t.Fatalf("manifest: app %+v, /bin/sh %q, /app/bin/python3 %q", m.App, files["/bin/sh"], files["/app/bin/python3"])
	}
	port := freePort(t)
	cmd := exec.Command(os.Args[0], "run", "test/runtimes:1", "-port", fmt.Sprintf("%d:8080", port))
	cmd.Env = append(cleanEnv(), "KEEL_TEST_AS_KEEL=1", "KEEL_HOME="+homeDir)
	var out testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			select {
			case <-exited:
			case <-time.After(10 * time.Second): // a child holding the output pipe
			}
		}
	}()
	client := &http.Client{Timeout: 10 * time.Second}
	var body string
	for deadline := time.Now().Add(240 * time.Second); body == ""; time.Sleep(500 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("keel run ended (%v) before the app answered:\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer from the app:\n%s", out.String())
		}
		if !strings.Contains(out.String(), "python: listening") {
			continue
		}
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
	}
	t.Logf("answered %v after keel run started", time.Since(t0).Round(time.Millisecond))
	if body != "hello from python\n" {
		t.Fatalf("the app answered %q", body)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("keel run: %v\n%s", err, out.String())
		}
	case <-time.After(120 * time.Second):
		t.Fatalf("keel run did not end after the request:\n%s", out.String())
	}
	logs := keel(t, homeDir, "logs", "test/runtimes", "-since", "10m").stdout
	for _, w := range []string{"shell: /app/start.sh started", "node v", "sha256 ", "Error: node on purpose", "at Object.<anonymous> (/app/hello.js", "shell: node exited with 0",
		`"zlib":"1.`, `"ssl":"OpenSSL 3`, `"pid":true`, "python: served one request"} {
		if !strings.Contains(logs, w) {
			t.Fatalf("the logs lack %q:\n%s\nrun:\n%s", w, logs, out.String())
		}
	}
	if strings.Contains(logs, `"cas":0`) || !strings.Contains(logs, `"cas":`) {
		t.Fatalf("python's ssl found no CA certificates:\n%s", logs)
	}
}

// pythonDir lays out a small CPython in dir from the host's python3: the
// interpreter (and python3 as a hard link to it), libpython when shared,
// and the stdlib without its tests, tools, GUI and bytecode caches.
func pythonDir(t *testing.T, python, dir string) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import sys, sysconfig; print(sys.base_prefix); print('%d.%d' % sys.version_info[:2]); print(sysconfig.get_config_var('LDLIBRARY') or '')").Output()
	if err != nil {
		t.Fatalf("ask python3 for its prefix: %v", err)
	}
	f := strings.Split(strings.TrimSpace(string(out)), "\n")
	prefix, ver := f[0], f[1]
	exe := filepath.Join(prefix, "bin", "python"+ver)
	copyFile(t, exe, filepath.Join(dir, "bin", "python"+ver))
	if err := os.Link(filepath.Join(dir, "bin", "python"+ver), filepath.Join(dir, "bin", "python3")); err != nil {
		t.Fatal(err)
	}
	if len(f) > 2 && strings.HasSuffix(f[2], ".so") {
		lib := filepath.Join(prefix, "lib", f[2]+".1.0")
		if _, err := os.Stat(lib); err == nil {
			copyFile(t, lib, filepath.Join(dir, "lib", filepath.Base(lib)))
		}
	}
	skip := map[string]bool{"test": true, "idlelib": true, "tkinter": true, "turtledemo": true, "lib2to3": true, "ensurepip": true, "site-packages": true,
		"pydoc_data": true, "distutils": true, "unittest": true, "sqlite3": true, "curses": true, "dbm": true, "venv": true, "__pycache__": true, "tests": true}
	std := filepath.Join(prefix, "lib", "python"+ver)
	err = filepath.WalkDir(std, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && (skip[name] || strings.HasPrefix(name, "config-")) {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() || strings.HasPrefix(name, "_test") || strings.Contains(name, "tkinter") {
			return nil
		}
		rel, _ := filepath.Rel(std, p)
		copyFile(t, p, filepath.Join(dir, "lib", "python"+ver, rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(src)
	os.MkdirAll(filepath.Dir(dst), 0o755)
	if err := os.WriteFile(dst, b, fi.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
}
