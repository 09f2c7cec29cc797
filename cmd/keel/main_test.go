package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The test binary doubles as keel, so that `-daemon` (which re-executes
// its own binary) is tested for real.
func TestMain(m *testing.M) {
	if os.Getenv("KEEL_TEST_AS_KEEL") == "1" {
		os.Exit(run(os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}

type result struct {
	code           int
	stdout, stderr string
}

func keel(t *testing.T, home string, args ...string) result {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "KEEL_TEST_AS_KEEL=1", "KEEL_HOME="+home)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func TestHelpAndUsageErrors(t *testing.T) {
	home := t.TempDir()
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"help"}, 0, "logserver"},
		{[]string{"help", "logserver"}, 0, "-auth"},
		{[]string{"logserver", "-h"}, 0, "-daemon"},
		{[]string{"logserver", "key", "create", "-h"}, 0, "-stream.prefix"},
		{[]string{}, 2, "Usage"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"logserver", "-nope"}, 2, "flag provided but not defined: -nope"},
		{[]string{"logserver", "-auth", "maybe"}, 1, `-auth="maybe": use sigv4 or none`},
		{[]string{"logserver", "key", "create"}, 1, "-name is required"},
		{[]string{"logserver", "key", "create", "-name", "x", "-stream.prefix", "p"}, 1, "give -group too"},
		{[]string{"logserver", "status"}, 1, "no log server is running"},
		{[]string{"logserver", "stop"}, 1, "no log server is running"},
	}
	for _, tc := range cases {
		r := keel(t, home, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.want) {
			t.Errorf("keel %v: exit %d, output %q; want exit %d and %q", tc.args, r.code, r.stdout+r.stderr, tc.code, tc.want)
		}
	}
}

func TestLogserverDaemonAndKeys(t *testing.T) {
	home := t.TempDir()
	data := filepath.Join(home, "logserver")
	r := keel(t, home, "logserver", "-daemon", "-addr", "127.0.0.1:0")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "http://127.0.0.1:") || !strings.Contains(r.stderr, "started") {
		t.Fatalf("daemon start: %+v", r)
	}
	endpoint := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { keel(t, home, "logserver", "stop") })
	r = keel(t, home, "logserver", "-daemon", "-addr", "127.0.0.1:0")
	if r.code != 0 || strings.TrimSpace(r.stdout) != endpoint || !strings.Contains(r.stderr, "already running") {
		t.Fatalf("second daemon start: %+v", r)
	}
	r = keel(t, home, "logserver", "-addr", "127.0.0.1:0")
	if r.code != 3 || !strings.Contains(r.stderr, "already running") || !strings.Contains(r.stderr, endpoint) {
		t.Fatalf("foreground start on a used data dir: %+v", r)
	}
	if r = keel(t, home, "logserver", "status"); r.code != 0 || !strings.Contains(r.stdout, "endpoint "+endpoint) {
		t.Fatalf("status: %+v", r)
	}
	if fi, err := os.Stat(filepath.Join(data, "credentials")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin credentials: %v %v", fi, err)
	}

	credFile := filepath.Join(home, "vm.credentials")
	r = keel(t, home, "logserver", "key", "create", "-name", "vm-hello", "-group", "boxfuse/dev", "-stream.prefix", "myuser/hello", "-o", credFile)
	if r.code != 0 {
		t.Fatalf("key create: %+v", r)
	}
	b, err := os.ReadFile(credFile)
	if err != nil || !strings.Contains(string(b), "[default]") || !strings.Contains(string(b), "aws_access_key_id = KEEL") {
		t.Fatalf("credentials file: %q %v", b, err)
	}
	r = keel(t, home, "logserver", "key", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "vm-hello") || !strings.Contains(r.stdout, "CreateLogStream,PutLogEvents on boxfuse/dev/myuser/hello*") || !strings.Contains(r.stdout, "admin") {
		t.Fatalf("key list: %+v", r)
	}
	if strings.Contains(r.stdout, "secret") {
		t.Fatalf("key list shows secrets")
	}
	id := ""
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, "vm-hello") {
			id = strings.Fields(line)[0]
		}
	}
	if r = keel(t, home, "logserver", "key", "delete", id); r.code != 0 {
		t.Fatalf("key delete: %+v", r)
	}
	if r = keel(t, home, "logserver", "key", "list"); strings.Contains(r.stdout, "vm-hello") {
		t.Fatalf("deleted key still listed: %s", r.stdout)
	}
	if r = keel(t, home, "logserver", "stop"); r.code != 0 {
		t.Fatalf("stop: %+v", r)
	}
	if r = keel(t, home, "logserver", "status"); r.code != 1 {
		t.Fatalf("status after stop: %+v", r)
	}
}
