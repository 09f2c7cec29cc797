package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keelvm/keel/internal/testutil"
)

// pythonHome is this machine's CPython (pyenv), copied in part for the
// app disk test and the bench.
const pythonHome = "/root/.pyenv/versions/3.11.7"

// pythonCopy copies CPython's interpreter, its libpython and its standard
// library without the tests, IDLE, Tk and the caches (about 700 files,
// 48 MB) into a new directory: a directory app of realistic size.
func pythonCopy(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pythonHome, "bin/python3.11")); err != nil {
		testutil.Unavailable(t, "CPython at %s: %v (install it with pyenv install 3.11.7)", pythonHome, err)
	}
	dir := t.TempDir()
	sh := `set -e; mkdir -p "$2/bin" "$2/lib"; cp "$1/bin/python3.11" "$2/bin/"; cp "$1/lib/libpython3.11.so.1.0" "$2/lib/";
cd "$1/lib"; tar cf - --exclude=test --exclude=tests --exclude=idlelib --exclude=tkinter --exclude=turtledemo --exclude=ensurepip --exclude=lib2to3 --exclude='config-3.11-*' --exclude=site-packages --exclude=__pycache__ --exclude=pydoc_data python3.11 | (cd "$2/lib" && tar xf -)`
	if out, err := exec.Command("sh", "-c", sh, "sh", pythonHome, dir).CombinedOutput(); err != nil {
		t.Fatalf("copy CPython: %v\n%s", err, out)
	}
	return dir
}

// TestQEMUAppDisk fuses a CPython directory, which goes on an app disk,
// and runs it: the app reads its stdlib from the read-only disk and
// writes into its directory (the overlay); its events reach the server
// with the run's own instance id. Too little memory is refused before
// booting, with the number needed.
func TestQEMUAppDisk(t *testing.T) {
	homeDir, initBin, _ := fuseHome(t)
	if _, err := exec.LookPath("mksquashfs"); err != nil {
		testutil.Unavailable(t, "mksquashfs: %v (apt-get install squashfs-tools)", err)
	}
	t.Cleanup(func() { keel(t, homeDir, "logserver", "stop") })
	py := pythonCopy(t)
	script := `import json, os; open('/app/written', 'w').write('ok'); print('python', json.dumps({'modules': len(os.listdir('/app/lib/python3.11')), 'written': open('/app/written').read()}))`
	r := keelEnv(t, homeDir, []string{"KEEL_INIT=" + initBin}, "fuse", py, "-entrypoint", "bin/python3.11", "-name", "test/py:1", "--", "-c", script)
	if r.code != 0 || !strings.Contains(r.stderr, "app disk") {
		t.Fatalf("fuse: %+v", r)
	}
	var m struct {
		Memory struct {
			MinMB int `json:"min_mb"`
		} `json:"memory"`
		AppDisk struct{ Files []any } `json:"app_disk"`
	}
	b, err := os.ReadFile(filepath.Join(homeDir, "images/test/py/1/manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Memory.MinMB < 128 || len(m.AppDisk.Files) < 500 {
		t.Fatalf("manifest: memory %+v, %d files on the app disk (%v)", m.Memory, len(m.AppDisk.Files), err)
	}

	// Too little memory: refused before booting.
	r = keel(t, homeDir, "run", "test/py:1", "-memory", "128")
	if r.code == 0 || !strings.Contains(r.stderr, "needs at least") || strings.Contains(r.stderr, "Booting") {
		t.Fatalf("run with too little memory: %+v", r)
	}

	r = keel(t, homeDir, "run", "test/py:1")
	if r.code != 0 || !strings.Contains(r.stdout, `"written": "ok"`) || !strings.Contains(r.stderr, "app disk: ok") {
		t.Fatalf("run: %+v", r)
	}
	id := regexp.MustCompile(`as instance (i-[0-9a-f]{17}) `).FindStringSubmatch(r.stderr)
	if id == nil {
		t.Fatalf("keel run shows no instance id: %s", r.stderr)
	}
	r = keel(t, homeDir, "logs", "test/py", "-since", "10m", "-format", "json")
	if r.code != 0 {
		t.Fatalf("logs: %+v", r)
	}
	appLine := false
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("logs line %q: %v", line, err)
		}
		msg, _ := e["message"].(string)
		var inner map[string]any
		json.Unmarshal([]byte(msg), &inner)
		if inner["instance"] != id[1] {
			t.Fatalf("event %q: instance %v, want %s", line, inner["instance"], id[1])
		}
		if m, _ := inner["message"].(string); strings.Contains(m, `"written": "ok"`) {
			appLine = true
		}
	}
	if !appLine {
		t.Fatalf("the app's line did not reach the server:\n%s", r.stdout)
	}
}
