package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keelvm/keel/internal/home"
	"github.com/keelvm/keel/internal/testutil"
	"github.com/keelvm/keel/logserver/auth"
	"github.com/keelvm/keel/vmtest"
)

// fuseHome prepares a KEEL_HOME for fuse and run: keel's init and the
// example app built, the kernel cache shared with the other tests (on CI a
// missing QEMU or kernel fails).
func fuseHome(t *testing.T) (homeDir, initBin, hello string) {
	t.Helper()
	vmtest.Kernel(t)
	cache, err := home.Path("kernels")
	if err != nil {
		t.Fatal(err)
	}
	homeDir = t.TempDir()
	if err := os.Symlink(cache, filepath.Join(homeDir, "kernels")); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	initBin, hello = filepath.Join(bin, "keel-init"), filepath.Join(bin, "hello")
	vmtest.BuildStatic(t, "../../init", initBin)
	vmtest.BuildStatic(t, "../../examples/hello", hello)
	return homeDir, initBin, hello
}

// TestConsoleStatus: only init's own line gives the app's status, not an
// app that prints the same words.
func TestConsoleStatus(t *testing.T) {
	cases := []struct {
		lines  []string
		status int
		seen   bool
	}{
		{[]string{"keel init [   5.500s] powering off (status 3)"}, 3, true},
		{[]string{"INFO keel init [   1.0s] powering off (status 0)", "powering off (status 0)"}, -1, false},
		{[]string{"INFO powering off (status 0)", "keel init [  12.000s] powering off (status 137)"}, 137, true},
	}
	for _, tc := range cases {
		r := &runner{stdout: io.Discard, stderr: io.Discard, status: -1}
		w := r.consoleWriter()
		for _, l := range tc.lines {
			fmt.Fprintf(w, "%s\r\n", l)
		}
		if r.status != tc.status || r.seen != tc.seen {
			t.Errorf("%q: status %d seen %v, want %d %v", tc.lines, r.status, r.seen, tc.status, tc.seen)
		}
	}
}

// TestRevokeStale: keys of keel runs that are gone are revoked; others stay.
func TestRevokeStale(t *testing.T) {
	kr, _, err := auth.OpenKeyring(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	scope := &auth.Scope{Group: "keel/dev", StreamPrefix: "a/b"}
	live := "vm-run-" + keelRunID() + "-a-b"
	reused := fmt.Sprintf("vm-run-%d.1-a-b", os.Getpid()) // this pid, another start: that run ended
	for _, name := range []string{"vm-run-999999999-a-b", "vm-hello", "vm-run-x-a-b", live, reused} {
		if _, err := kr.Create(name, scope); err != nil {
			t.Fatal(err)
		}
	}
	var out strings.Builder
	revokeStale(kr, &out)
	var names []string
	for _, k := range kr.List() {
		names = append(names, k.Name)
	}
	if got := strings.Join(names, ","); strings.Contains(got, "vm-run-999999999") || !strings.Contains(got, "vm-hello") || !strings.Contains(got, "vm-run-x-a-b") ||
		!strings.Contains(got, live) || strings.Contains(got, reused) {
		t.Fatalf("keys left: %s", got)
	}
	if !strings.Contains(out.String(), "pid 999999999") {
		t.Fatalf("output %q", out.String())
	}
}

func TestFuseErrors(t *testing.T) {
	homeDir := t.TempDir()
	hello := filepath.Join(homeDir, "hello")
	b, _ := os.ReadFile(os.Args[0])
	os.WriteFile(hello, b, 0o755)
	script := filepath.Join(homeDir, "script.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o755)
	// A kernel that cannot be fetched: apt-get's refusal, and what to do.
	if _, err := exec.LookPath("apt-get"); err == nil {
		r := keelEnv(t, homeDir, []string{"KEEL_INIT=" + os.Args[0]}, "fuse", hello, "-name", "a/b:1", "-kernel", "linux-image-0.0.0-nope-amd64")
		if r.code != 1 || !strings.Contains(r.stderr, "fetch linux-image-0.0.0-nope-amd64: apt-get download") || !strings.Contains(r.stderr, "apt-get update") {
			t.Errorf("fuse with a kernel that cannot be fetched: %+v", r)
		}
		if ents, _ := os.ReadDir(filepath.Join(homeDir, "images")); len(ents) != 0 {
			t.Errorf("a failed fuse left %v in the store", ents)
		}
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"fuse"}, "which app?"},
		{[]string{"fuse", "./hello"}, "-name is required"},
		{[]string{"fuse", "./hello", "-name", "hello"}, "no :version"},
		{[]string{"fuse", "./hello", "-name", "a/b:1", "-restart", "sometimes"}, `-restart="sometimes"`},
		{[]string{"fuse", "./hello", "-name", "a/b:1", "-target", "vmware"}, `-target="vmware"`},
		{[]string{"fuse", "./hello", "-name", "a/b:1", "-logs.type", "syslog"}, `-logs.type="syslog"`},
		{[]string{"fuse", "./hello", "-name", "a/b:1", "-env", "NOVALUE"}, `-env "NOVALUE": write NAME=VALUE`},
		{[]string{"fuse", "./hello", "-name", "a/b:1", "-args", "x", "--", "y"}, "either with -args or after --"},
		{[]string{"fuse", "./hello", "-name", "a/b:1", "-init", "/nonexistent/keel-init"}, "keel's init binary"},
		{[]string{"fuse", hello, "-name", "a/b:1", "-init", os.Args[0], "-kernel", "/nonexistent/kernel"}, "-kernel /nonexistent/kernel: no such directory"},
		// The app is checked before any kernel is fetched.
		{[]string{"fuse", script, "-name", "a/b:1", "-init", os.Args[0], "-kernel", "linux-image-0.0.0-nope-amd64"}, "script"},
		{[]string{"run"}, "which image?"},
		{[]string{"run", "a/b:1", "-port", "x:y"}, `-port "x:y"`},
		{[]string{"run", "a/b:1"}, "image a/b:1 is not in"},
	}
	for _, tc := range cases {
		r := keel(t, homeDir, tc.args...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("keel %v: exit %d, stderr %q; want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// TestQEMURun fuses the example app, runs it with keel run and the local
// log server, sends it a request through the forwarded port, and stops it
// with Ctrl-C (SIGINT to keel run): the power button gives an orderly
// shutdown whose last lines reach the server and the live tail, the VM's
// key is revoked, and keel run exits with the app's status. An app that
// fails makes keel run fail with its status.
func TestQEMURun(t *testing.T) {
	homeDir, initBin, hello := fuseHome(t)
	t.Cleanup(func() { keel(t, homeDir, "logserver", "stop") })
	env := []string{"KEEL_INIT=" + initBin}
	if r := keelEnv(t, homeDir, env, "fuse", hello, "-name", "test/hello:1", "--", "-addr", ":8080"); r.code != 0 || !strings.Contains(r.stderr, "Fused test/hello:1") {
		t.Fatalf("fuse: %+v", r)
	}
	port := freePort(t)
	cmd := exec.Command(os.Args[0], "run", "test/hello:1", "-port", fmt.Sprintf("%d:8080", port), "-logs.tail")
	cmd.Env = append(cleanEnv(), "KEEL_TEST_AS_KEEL=1", "KEEL_HOME="+homeDir)
	var stdout, stderr testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	waited := make(chan struct{})
	go func() { exited <- cmd.Wait(); close(waited) }()
	defer func() {
		select {
		case <-waited:
		default:
			cmd.Process.Signal(syscall.SIGINT) // the VM dies with keel run (Pdeathsig)
			time.Sleep(500 * time.Millisecond)
			cmd.Process.Kill()
			<-waited
		}
	}()
	waitFor := func(what string, d time.Duration, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(d); !ok(); time.Sleep(200 * time.Millisecond) {
			select {
			case err := <-exited:
				t.Fatalf("keel run exited (%v) while waiting for %s\nstdout:\n%s\nstderr:\n%s", err, what, stdout.String(), stderr.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s after %v\nstdout:\n%s\nstderr:\n%s", what, d, stdout.String(), stderr.String())
			}
		}
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/?name=test", port)
	var body string
	waitFor("answer from the app", 120*time.Second, func() bool {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("X-Request-Id", "run-test-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == 200
	})
	if body != "hello, test\n" {
		t.Fatalf("app answered %q", body)
	}
	waitFor("the request in the live tail", 30*time.Second, func() bool { return strings.Contains(stdout.String(), `"requestId":"run-test-1"`) })
	if r := keel(t, homeDir, "logserver", "key", "list"); !strings.Contains(r.stdout, "vm-run-") {
		t.Fatalf("no key for the VM while it runs: %+v", r)
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("keel run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("keel run did not end after SIGINT\nstderr:\n%s", stderr.String())
	}
	for _, w := range []string{"Creating Log Group keel/dev ... done", "Creating Log Stream keel/dev > test/hello ... done", "Pressing the power button", "powering off (status 0)", "the app exited with status 0"} {
		if !strings.Contains(stderr.String(), w) {
			t.Fatalf("stderr lacks %q:\n%s", w, stderr.String())
		}
	}
	if !strings.Contains(stdout.String(), "bye") {
		t.Fatalf("the app's last line is not in the live tail:\n%s", stdout.String())
	}
	if r := keel(t, homeDir, "logs", "test/hello", "-since", "10m"); !strings.Contains(r.stdout, "bye") || !strings.Contains(r.stdout, "run-test-1") {
		t.Fatalf("keel logs after the run: %+v", r)
	}
	if r := keel(t, homeDir, "logserver", "key", "list"); strings.Contains(r.stdout, "vm-run-") {
		t.Fatalf("the VM's key was not revoked: %s", r.stdout)
	}

	// An app that cannot start: keel run reports its exit status.
	if r := keelEnv(t, homeDir, env, "fuse", hello, "-name", "test/hello:bad", "--", "-addr", ":99999"); r.code != 0 {
		t.Fatalf("fuse: %+v", r)
	}
	r := keel(t, homeDir, "run", "test/hello:bad")
	if r.code != 1 || !strings.Contains(r.stderr, "the app's exit status was 1") || !strings.Contains(r.stdout, "listen on :99999") {
		t.Fatalf("run of a failing app: %+v", r)
	}

	// In the background: keel ps lists it, keel kill presses its power
	// button and waits, and its record goes.
	port = freePort(t)
	r = keel(t, homeDir, "run", "test/hello:1", "-detach", "-port", fmt.Sprintf("%d:8080", port))
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || !regexp.MustCompile(`^i-[0-9a-f]{17}$`).MatchString(id) || !strings.Contains(r.stderr, "keel kill "+id) {
		t.Fatalf("run -detach: %+v", r)
	}
	t.Cleanup(func() { keel(t, homeDir, "kill", "-force", id) })
	if r := keel(t, homeDir, "ps"); !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, fmt.Sprint(port)) {
		t.Fatalf("ps: %+v", r)
	}
	waitFor("answer from the detached app", 120*time.Second, func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if r := keel(t, homeDir, "kill", id); r.code != 0 || !strings.Contains(r.stderr, id+" stopped") {
		t.Fatalf("kill: %+v", r)
	}
	if r := keel(t, homeDir, "ps"); strings.Contains(r.stdout, id) {
		t.Fatalf("ps after kill: %+v", r)
	}
	if r := keel(t, homeDir, "kill", id); r.code != 1 || !strings.Contains(r.stderr, "no running VM") {
		t.Fatalf("second kill: %+v", r)
	}

	// Ctrl-C while -detach waits for the app: the VM stops too, not left
	// running unannounced.
	det := exec.Command(os.Args[0], "run", "test/hello:1", "-detach")
	det.Env = append(cleanEnv(), "KEEL_TEST_AS_KEEL=1", "KEEL_HOME="+homeDir, "AWS_CONFIG_FILE="+filepath.Join(homeDir, "no-aws-config"))
	detErr := &testutil.SyncBuffer{}
	det.Stderr = detErr
	if err := det.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	det.Process.Signal(syscall.SIGINT)
	if err := det.Wait(); err == nil || !strings.Contains(detErr.String(), "stopping i-") {
		t.Fatalf("run -detach after SIGINT: %v\n%s", err, detErr.String())
	}
	if r := keel(t, homeDir, "ps"); strings.Contains(r.stdout, "test/hello:1") {
		t.Fatalf("ps after an interrupted -detach: %+v", r)
	}
}

// TestFuseInterruptedDuringKernelFetch: Ctrl-C while apt-get downloads the
// kernel leaves neither an image nor the fetch's staging directory.
func TestFuseInterruptedDuringKernelFetch(t *testing.T) {
	home := t.TempDir()
	bin := filepath.Join(home, "bin")
	os.MkdirAll(bin, 0o755)
	// A slow apt-get that has started writing its download.
	os.WriteFile(filepath.Join(bin, "apt-get"), []byte("#!/bin/sh\necho partial > linux-image-x.deb.part\necho downloading\nexec sleep 30\n"), 0o755)
	os.WriteFile(filepath.Join(bin, "dpkg"), []byte("#!/bin/sh\nexit 1\n"), 0o755)
	hello := filepath.Join(home, "hello")
	b, _ := os.ReadFile(os.Args[0])
	os.WriteFile(hello, b, 0o755)
	cmd := exec.Command(os.Args[0], "fuse", hello, "-name", "a/b:1", "-init", os.Args[0], "-kernel", "linux-image-9.9.9-1-amd64")
	cmd.Env = append(cleanEnv(), "KEEL_TEST_AS_KEEL=1", "KEEL_HOME="+home, "PATH="+bin+":"+os.Getenv("PATH"))
	stderr := &testutil.SyncBuffer{}
	cmd.Stderr = stderr
	// Its own process group, signalled whole, as a terminal's Ctrl-C does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "downloading") {
		if time.Now().After(deadline) {
			t.Fatalf("the fake apt-get never ran: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130: %s", err, stderr.String())
	}
	left, _ := filepath.Glob(filepath.Join(home, "kernels-tmp", "*"))
	images, _ := filepath.Glob(filepath.Join(home, "images", "*"))
	if len(left) != 0 || len(images) != 0 {
		t.Fatalf("left behind: staging %v, images %v", left, images)
	}
}
