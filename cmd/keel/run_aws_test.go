package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/store"
	"github.com/keelvm/keel/internal/testutil"
	"github.com/keelvm/keel/logserver/auth"
	"github.com/keelvm/keel/vmtest"
)

// TestQEMURunAWS: an image fused for EC2, with no key inside, boots under
// keel run as EC2 boots it (UEFI from disk.raw on NVMe, with a virtio NIC
// since QEMU has no ENA), gets its identity, region, user data and
// credentials from keel run's IMDSv2, and ships. Its credentials last 30 s
// and the app logs for longer: every line arrives once, in order, across
// the rotations. The image's files are unchanged after the run, and no
// secret is in any of them.
func TestQEMURunAWS(t *testing.T) {
	homeDir, initBin, _ := fuseHome(t)
	t.Cleanup(func() { keel(t, homeDir, "logserver", "stop") })
	app := filepath.Join(t.TempDir(), "count")
	vmtest.BuildStatic(t, "../../init/testdata/hello", app)
	const lines = 900 // one every 50 ms: 45 s, past the first credentials' expiry
	if r := keelEnv(t, homeDir, []string{"KEEL_INIT=" + initBin}, "fuse", app, "-name", "test/count:1", "-target", "aws",
		"--", "count", fmt.Sprint(lines), "50ms"); r.code != 0 {
		t.Fatalf("fuse: %+v", r)
	}
	cmd := exec.Command(os.Args[0], "run", "test/count:1", "-console", "-session.ttl", "30s", "-set", "keel.env=FROM=set")
	cmd.Env = append(cleanEnv(), "KEEL_TEST_AS_KEEL=1", "KEEL_HOME="+homeDir)
	var stdout, stderr testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(syscall.SIGINT)
			time.Sleep(500 * time.Millisecond)
			cmd.Process.Kill()
		}
	}()
	// The session credentials issued during the run, to look for in the
	// image afterwards.
	secrets := map[string]bool{}
	collect := func() {
		b, err := os.ReadFile(filepath.Join(homeDir, "logserver", auth.KeysFileName))
		if err != nil {
			return
		}
		var kf struct{ Keys []auth.Key }
		json.Unmarshal(b, &kf)
		for _, k := range kf.Keys {
			secrets[k.Secret] = true
			if k.Token != "" {
				secrets[k.Token] = true
			}
		}
	}
	var runErr error
	sessionsSeen := 0
wait:
	for deadline := time.After(300 * time.Second); ; {
		select {
		case runErr = <-exited:
			break wait
		case <-deadline:
			t.Fatalf("keel run did not end\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		case <-time.After(2 * time.Second):
			before := len(secrets)
			collect()
			sessionsSeen += (len(secrets) - before) / 2
		}
	}
	out := stdout.String() + stderr.String()
	if runErr != nil {
		t.Fatalf("keel run: %v\n%s", runErr, out)
	}
	for _, w := range []string{
		"NVMe",               // the firmware boots the NVMe disk
		"nvme", "virtio_net", // init's module line
		"instance identity: instance i-", "in us-east-1", "user data: applied",
		"credentials: the instance role (IMDSv2)",
		"powering off (status 0)",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if m := regexp.MustCompile(`instance (i-[0-9a-f]{17}) in`).FindStringSubmatch(out); m == nil {
		t.Errorf("no EC2-style instance id in the output")
	}
	if t.Failed() {
		t.Fatalf("output:\n%s", out)
	}
	// Every line once, in order.
	r := keel(t, homeDir, "logs", "test/count", "-since", "15m", "-format", "json")
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var ev struct{ Message string }
		if json.Unmarshal([]byte(l), &ev) != nil {
			continue
		}
		var inner struct{ Message, Source string }
		if json.Unmarshal([]byte(ev.Message), &inner) == nil && strings.HasPrefix(inner.Message, "count ") {
			got = append(got, inner.Message)
		}
	}
	if len(got) != lines {
		t.Fatalf("%d count lines arrived, want %d (sessions seen %d)\n%s", len(got), lines, sessionsSeen, r.stdout[:min(len(r.stdout), 3000)])
	}
	for i, m := range got {
		if m != fmt.Sprintf("count %d", i) {
			t.Fatalf("line %d is %q", i, m)
		}
	}
	if sessionsSeen < 2 {
		t.Errorf("%d sessions seen during a run of 45 s with 30 s credentials: no rotation", sessionsSeen)
	}
	if r := keel(t, homeDir, "logs", "test/count", "-boot", "-since", "15m"); !strings.Contains(r.stdout, "Linux version") {
		t.Errorf("boot stream lacks the kernel's first line: %+v", r)
	}
	if r := keel(t, homeDir, "logserver", "key", "list"); strings.Contains(r.stdout, "vm-run-") {
		t.Errorf("the VM's session credentials were not revoked: %s", r.stdout)
	}
	// The image is what was fused, and holds no secret.
	st := store.Store{Dir: filepath.Join(homeDir, "images")}
	ref, _ := store.ParseRef("test/count:1")
	m, err := st.Load(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Verify(ref, m); err != nil {
		t.Errorf("after the run: %v", err)
	}
	collect()
	noSecrets(t, st.Path(ref), secrets)
}

// noSecrets checks that no artifact of the image in dir (the initramfs's
// every file, the disk's bytes) holds a credentials file or one of the
// secrets.
func noSecrets(t *testing.T, dir string, secrets map[string]bool) {
	t.Helper()
	markers := []string{"aws_secret_access_key", "aws_session_token"}
	check := func(what string, b []byte) {
		for _, m := range markers {
			// Programs name the keys (init reads such files); a file
			// holding a key is not a program.
			if !bytes.HasPrefix(b, []byte("\x7fELF")) && bytes.Contains(b, []byte(m)) {
				t.Errorf("%s holds %q", what, m)
			}
		}
		for s := range secrets {
			if s != "" && bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a secret of the log server", what)
			}
		}
	}
	f, err := os.Open(filepath.Join(dir, "initrd.img"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := initramfs.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Path, "/etc/keel/") && e.Path != "/etc/keel/config.json" {
			t.Errorf("initrd.img holds %s", e.Path)
		}
		check("initrd.img "+e.Path, e.Data)
	}
	disk, err := os.ReadFile(filepath.Join(dir, "disk.raw"))
	if err != nil {
		t.Fatal(err)
	}
	check("disk.raw", disk)
	if len(secrets) == 0 {
		t.Error("no secret of the log server was seen to look for")
	}
}
