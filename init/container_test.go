package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/internal/testutil"
)

// TestContainerPID1 runs init as PID 1 of a container, made with unshare(1)
// as a runtime makes one: new PID and mount namespaces, a /proc of its
// own, the host's other mounts, the image's /etc (here a directory bound
// over it). Once with every capability (docker run --privileged), once
// without CAP_SYS_ADMIN and CAP_SYS_BOOT (docker run's default). In both,
// init runs the app, leaves the runtime's mounts, network and the host's
// kernel log alone, and exits with the app's status: before, it called
// reboot(2), which without CAP_SYS_BOOT failed and left init waiting
// forever, and with it ended the container by a signal, losing the status.
func TestContainerPID1(t *testing.T) {
	initBin, etc := containerFiles(t)
	cfg, _ := json.Marshal(bootcfg.Config{App: "/etc/keel/app/hello", Args: []string{"3"}})
	if err := os.WriteFile(filepath.Join(etc, "keel", "config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		privs string // setpriv arguments, or none
	}{
		{"privileged", ""},
		{"without CAP_SYS_ADMIN and CAP_SYS_BOOT", "setpriv --inh-caps=-sys_admin,-sys_boot --bounding-set=-sys_admin,-sys_boot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			console, code := runContainer(t, etc, initBin, tc.privs)
			if code != 3 {
				t.Fatalf("init in a container exited with %d, want the app's 3:\n%s", code, console)
			}
			for _, w := range []string{"in a container", "hello stdout 0", "hello stderr 2", "app exited with code 3",
				"network: the container's", "exiting (status 3)"} {
				if !strings.Contains(console, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, bad := range []string{"powering off", "load ", "dhcp on", "power button", "unmount", "kernel records", "/dev/kmsg"} {
				if strings.Contains(console, bad) {
					t.Errorf("output holds %q: init acted as a VM's", bad)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", console)
			}
		})
	}
}

// runContainer runs initBin as PID 1 of a new container whose /etc is etc,
// started through wrap (commands that exec their last argument, or
// nothing), and returns its output and exit status.
func runContainer(t *testing.T, etc, initBin, wrap string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	script := `mount --bind "$1" /etc && exec ` + wrap + ` "$2"`
	cmd := exec.CommandContext(ctx, "unshare", "--pid", "--fork", "--kill-child", "--mount", "--mount-proc",
		"sh", "-c", script, "sh", etc, initBin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return out.String(), ee.ExitCode()
	}
	t.Fatalf("init in a container: %v (ctx %v):\n%s", err, ctx.Err(), out.String())
	return "", 0
}

// TestContainerPID1Limits: in a container as Docker runs it by default
// (no CAP_SYS_RESOURCE), the app, which runs as another user, gets the
// open-file limit of the configuration (keel's default 65536) or the
// container's hard limit where that is lower. Before, the limit was set
// with prlimit on the started app, which needs CAP_SYS_RESOURCE for
// another user's process: the app was killed at its start, every time.
func TestContainerPID1Limits(t *testing.T) {
	initBin, etc := containerFiles(t)
	const docker = "setpriv --inh-caps=-sys_admin,-sys_boot,-sys_resource --bounding-set=-sys_admin,-sys_boot,-sys_resource"
	for _, tc := range []struct {
		name   string
		nofile string // configured; "": keel's default, 65536
		limit  string // the container's
		want   string
	}{
		{"configured below the container's limit", "8192", "20000:20000", "nofile 8192/8192"},
		{"configured above the container's hard limit", "", "1024:20000", "nofile 20000/20000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := bootcfg.Config{App: "/etc/keel/app/hello", Args: []string{"limits"}}
			if tc.nofile != "" {
				c.Rlimits = map[string]string{"nofile": tc.nofile}
			}
			cfg, _ := json.Marshal(c)
			if err := os.WriteFile(filepath.Join(etc, "keel", "config.json"), cfg, 0o644); err != nil {
				t.Fatal(err)
			}
			console, code := runContainer(t, etc, initBin, "prlimit --nofile="+tc.limit+" "+docker)
			if code != 0 || !strings.Contains(console, tc.want) || strings.Contains(console, "uid 0 ") {
				t.Fatalf("exit status %d, want 0 and the app, not root, with %q:\n%s", code, tc.want, console)
			}
		})
	}
}

// containerFiles builds init and, under a directory that becomes the
// container's /etc (init mounts a tmpfs over /tmp, where the test's files
// are, when it may), the hello app at /etc/keel/app/hello. It checks for
// root and util-linux's tools first.
func containerFiles(t *testing.T) (initBin, etc string) {
	t.Helper()
	if os.Getuid() != 0 {
		testutil.Unavailable(t, "this test makes namespaces and mounts: run it as root")
	}
	for _, tool := range []string{"unshare", "setpriv", "prlimit"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s (Debian package util-linux): %v", tool, err)
		}
	}
	dir := t.TempDir()
	initBin = filepath.Join(dir, "init")
	buildStatic(t, ".", initBin)
	etc = filepath.Join(dir, "etc")
	if err := os.MkdirAll(filepath.Join(etc, "keel", "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	buildStatic(t, "./testdata/hello", filepath.Join(etc, "keel", "app", "hello"))
	return initBin, etc
}
