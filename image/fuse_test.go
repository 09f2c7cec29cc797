package image

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/keelvm/keel/image/appfs"
	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/image/store"
	"github.com/keelvm/keel/internal/qemu"
	"github.com/keelvm/keel/internal/testutil"
	"github.com/keelvm/keel/vmtest"
)

// fixture holds what fusing needs: the kernel, keel's init and test apps.
type fixture struct {
	k                     *kernel.Kernel
	init, static, dynamic string
	tree                  string // a directory app whose entrypoint is bin/app (the dynamic one)
	treeLink              string // a symlink to tree, as current -> releases/v42
}

var fx *fixture

// setup builds the fixture once; on CI a missing QEMU or kernel is a
// failure.
func setup(t *testing.T) *fixture {
	t.Helper()
	if fx != nil {
		return fx
	}
	k := vmtest.Kernel(t)
	dir, err := os.MkdirTemp("", "keel-fuse-test-")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{k: k, init: filepath.Join(dir, "keel-init"), static: filepath.Join(dir, "hello"), dynamic: filepath.Join(dir, "hello-libc"), tree: filepath.Join(dir, "tree")}
	vmtest.BuildStatic(t, "../init", f.init)
	vmtest.BuildStatic(t, "../examples/hello", f.static)
	if b, err := exec.Command("gcc", "-O1", "-o", f.dynamic, "elfdeps/testdata/hello.c", "-lm").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	os.MkdirAll(filepath.Join(f.tree, "bin"), 0o755)
	os.MkdirAll(filepath.Join(f.tree, "share", "empty"), 0o755)
	b, _ := os.ReadFile(f.dynamic)
	os.WriteFile(filepath.Join(f.tree, "bin", "app"), b, 0o755)
	os.WriteFile(filepath.Join(f.tree, "share", "greeting.txt"), []byte("hi\n"), 0o640)
	os.Symlink("share/greeting.txt", filepath.Join(f.tree, "greeting"))
	f.treeLink = filepath.Join(dir, "current")
	os.Symlink(f.tree, f.treeLink)
	fx = f
	return f
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fx != nil {
		os.RemoveAll(filepath.Dir(fx.init))
	}
	os.Exit(code)
}

func (f *fixture) fuse(t *testing.T, st store.Store, name, app string, mod func(*Fuse)) (store.Manifest, error) {
	t.Helper()
	ref, err := store.ParseRef(name)
	if err != nil {
		t.Fatal(err)
	}
	fu := Fuse{App: app, Ref: ref, Init: f.init, Kernel: f.k, Store: st, Certs: "no"}
	if mod != nil {
		mod(&fu)
	}
	return fu.Write()
}

// TestFuseKinds fuses each kind of app; the initramfs holds exactly what
// the manifest lists, byte for byte.
func TestFuseKinds(t *testing.T) {
	f := setup(t)
	st := store.Store{Dir: t.TempDir()}
	cases := []struct {
		name, app, entry string
		kind, path       string
		want             []string // paths that must be in the image
	}{
		{"static", f.static, "", "static", "/app/hello", nil},
		{"dynamic", f.dynamic, "", "dynamic", "/app/hello-libc", []string{"/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libm.so.6"}},
		{"directory", f.tree, "bin/app", "dynamic in a directory", "/app/bin/app", []string{"/app/share/greeting.txt", "/app/share/empty", "/app/greeting", "libc.so.6"}},
		{"symlinked-directory", f.treeLink, "bin/app", "dynamic in a directory", "/app/bin/app", []string{"/app/share/greeting.txt", "/app/bin/app "}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := f.fuse(t, st, "test/"+tc.name+":1", tc.app, func(fu *Fuse) { fu.Entrypoint = tc.entry })
			if err != nil {
				t.Fatal(err)
			}
			if m.App.Kind != tc.kind || m.App.Path != tc.path || m.Config.App != tc.path {
				t.Fatalf("app %+v, config app %q", m.App, m.Config.App)
			}
			ref, _ := store.ParseRef("test/" + tc.name + ":1")
			entries := initrdEntries(t, st, ref.String())
			// Path, mode, size and, for files, content: the archive's
			// entries in order against the manifest's records.
			var got, listed []string
			for _, e := range entries {
				line := fmt.Sprintf("%s %04o %d", e.Path, e.Mode, len(e.Data))
				if e.Kind == initramfs.File {
					line += " " + store.SumBytes(e.Data)
				}
				got = append(got, line)
			}
			for _, fl := range m.Files {
				line := fmt.Sprintf("%s %s %d", fl.Path, strings.Fields(fl.Mode)[0], fl.Size)
				if fl.SHA256 != "" {
					line += " " + fl.SHA256
				}
				listed = append(listed, line)
			}
			if strings.Join(got, "\n") != strings.Join(listed, "\n") {
				t.Fatalf("initramfs and manifest differ:\ninitramfs:\n%s\nmanifest:\n%s", strings.Join(got, "\n"), strings.Join(listed, "\n"))
			}
			all := strings.Join(got, "\n")
			for _, w := range append(tc.want, "/init ", "/etc/keel/config.json", "/dev/console", "virtio_net.ko") {
				if !strings.Contains(all, w) {
					t.Fatalf("image lacks %q:\n%s", w, all)
				}
			}
			for _, a := range m.Artifacts {
				if _, sum, _ := store.Checksum(filepath.Join(st.Path(ref), a.Name)); sum != a.SHA256 {
					t.Fatalf("artifact %s: checksum differs from the manifest", a.Name)
				}
			}
		})
	}
}

// TestFuseReproducible: the same inputs give the same bytes.
func TestFuseReproducible(t *testing.T) {
	f := setup(t)
	for _, appDisk := range []string{"no", "yes"} {
		t.Run("appdisk="+appDisk, func(t *testing.T) {
			if appDisk == "yes" {
				if err := appfs.Available(); err != nil {
					testutil.Unavailable(t, "%v", err)
				}
			}
			st := store.Store{Dir: t.TempDir()}
			var sums []string
			for _, v := range []string{"1", "2"} {
				m, err := f.fuse(t, st, "test/repro:"+v, f.tree, func(fu *Fuse) { fu.Entrypoint = "bin/app"; fu.Args = []string{"9"}; fu.AppDisk = appDisk })
				if err != nil {
					t.Fatal(err)
				}
				var s []string
				for _, a := range m.Artifacts {
					s = append(s, a.Name+"="+a.SHA256)
				}
				sort.Strings(s)
				sums = append(sums, strings.Join(s, " "))
				if (m.AppDisk != nil) != (appDisk == "yes") || !strings.Contains(sums[0], AppDiskFile) == (appDisk == "yes") {
					t.Fatalf("app disk %s: manifest %+v, artifacts %s", appDisk, m.AppDisk, sums[0])
				}
			}
			if sums[0] != sums[1] {
				t.Fatalf("fusing twice gave different bytes:\n%s\n%s", sums[0], sums[1])
			}
		})
	}
}

// TestFuseBadInput: each mistake gets a clear error and leaves nothing in
// the store.
func TestFuseBadInput(t *testing.T) {
	f := setup(t)
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not a program\n"), 0o755)
	arm := filepath.Join(dir, "arm")
	b, _ := os.ReadFile(f.static)
	b[18], b[19] = 0xb7, 0x00
	os.WriteFile(arm, b, 0o755)
	noexec := filepath.Join(dir, "tree")
	os.MkdirAll(noexec, 0o755)
	os.WriteFile(filepath.Join(noexec, "app"), b, 0o644)
	os.Symlink(f.static, filepath.Join(noexec, "outside"))

	st := store.Store{Dir: t.TempDir()}
	if _, err := f.fuse(t, st, "test/taken:1", f.static, nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, image, app string
		mod              func(*Fuse)
		err              string
	}{
		{"not an ELF", "test/bad:1", text, nil, "not an ELF executable"},
		{"wrong architecture", "test/bad:1", arm, nil, "rebuild it for amd64"},
		{"directory without entrypoint", "test/bad:1", f.tree, nil, "-entrypoint"},
		{"entrypoint missing", "test/bad:1", f.tree, func(fu *Fuse) { fu.Entrypoint = "bin/nope" }, "entrypoint bin/nope"},
		{"entrypoint a directory", "test/bad:1", f.tree, func(fu *Fuse) { fu.Entrypoint = "bin" }, "entrypoint bin is a directory"},
		{"entrypoint the directory itself", "test/bad:1", f.tree, func(fu *Fuse) { fu.Entrypoint = "." }, "entrypoint . is a directory"},
		{"entrypoint not executable", "test/bad:1", noexec, func(fu *Fuse) { fu.Entrypoint = "app" }, "is not executable"},
		{"missing app", "test/bad:1", filepath.Join(dir, "nope"), nil, "no such file"},
		{"existing version", "test/taken:1", f.static, nil, "already exists"},
		{"unknown target", "test/bad:1", f.static, func(fu *Fuse) { fu.Target = "vmware" }, `target "vmware"`},
		{"missing init", "test/bad:1", f.static, func(fu *Fuse) { fu.Init = filepath.Join(dir, "no-init") }, "make build"},
		{"entrypoint links outside", "test/bad:1", noexec, func(fu *Fuse) { fu.Entrypoint = "outside" }, "outside " + noexec},
		{"user by name", "test/bad:1", f.static, func(fu *Fuse) { fu.User = "alice" }, "give a numeric uid"},
		// What init's setuid cannot take fails here, not at boot.
		{"negative uid", "test/bad:1", f.static, func(fu *Fuse) { fu.User = "-1" }, "give a numeric uid"},
		{"signed uid", "test/bad:1", f.static, func(fu *Fuse) { fu.User = "+5" }, "give a numeric uid"},
		{"uid -1 as unsigned", "test/bad:1", f.static, func(fu *Fuse) { fu.User = "4294967295" }, "give a numeric uid"},
		{"uid over 32 bits", "test/bad:1", f.static, func(fu *Fuse) { fu.User = "4294967296" }, "give a numeric uid"},
		{"relative working dir", "test/bad:1", f.static, func(fu *Fuse) { fu.Dir = "app" }, "image configuration"},
		{"working dir not in the image", "test/bad:1", f.static, func(fu *Fuse) { fu.Dir = "/srv/data" }, "working directory /srv/data: not in the image"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.fuse(t, st, tc.image, tc.app, tc.mod)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			if got := st.List(); len(got) != 1 || got[0] != "test/taken:1" {
				t.Fatalf("store holds %v", got)
			}
			ents, _ := os.ReadDir(filepath.Join(st.Dir, "test"))
			for _, e := range ents {
				sub, _ := os.ReadDir(filepath.Join(st.Dir, "test", e.Name()))
				for _, s := range sub {
					if strings.Contains(s.Name(), "tmp") {
						t.Fatalf("left behind: %s/%s", e.Name(), s.Name())
					}
				}
			}
		})
	}
}

// TestQEMUFuseDirectory boots a fused directory app whose entrypoint is a
// dynamically linked C program: the bundled loader and libraries work in
// the image, which has nothing else.
func TestQEMUFuseDirectory(t *testing.T) {
	f := setup(t)
	st := store.Store{Dir: t.TempDir()}
	m, err := f.fuse(t, st, "test/libc:1", f.tree, func(fu *Fuse) { fu.Entrypoint = "bin/app"; fu.Args = []string{"9"} })
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := store.ParseRef("test/libc:1")
	vm, err := qemu.Start(qemu.Config{Kernel: filepath.Join(st.Path(ref), "vmlinuz"), Initrd: filepath.Join(st.Path(ref), "initrd.img"),
		Cmdline: m.Cmdline + " keel.net=none", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := vm.Wait(ctx); err != nil {
		t.Fatalf("VM did not power off: %v\n%s", err, vm.Console())
	}
	for _, w := range []string{"hello from libc, sqrt=3.000", "app exited with code 0", "powering off (status 0)"} {
		if !strings.Contains(vm.Console(), w) {
			t.Fatalf("console lacks %q:\n%s", w, vm.Console())
		}
	}
}

// TestFuseDirModesAndOwner: a directory app keeps its setuid, setgid and
// sticky bits, and its files belong to the app's user, by name or number.
func TestFuseDirModesAndOwner(t *testing.T) {
	f := setup(t)
	tree := t.TempDir()
	bin, err := os.ReadFile(f.static)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(tree, "bin"), 0o755)
	os.WriteFile(filepath.Join(tree, "bin", "app"), bin, 0o755)
	os.WriteFile(filepath.Join(tree, "bin", "helper"), bin, 0o755)
	os.Chmod(filepath.Join(tree, "bin", "helper"), fs.ModeSetuid|0o755)
	os.Mkdir(filepath.Join(tree, "spool"), 0o755)
	os.Chmod(filepath.Join(tree, "spool"), fs.ModeSticky|fs.ModeSetgid|0o777)
	st := store.Store{Dir: t.TempDir()}
	for i, tc := range []struct {
		user string
		uid  int
	}{{"", 65534}, {"nobody", 65534}, {"root", 0}, {"1000", 1000}} {
		name := fmt.Sprintf("test/modes:%d", i)
		if _, err := f.fuse(t, st, name, tree, func(fu *Fuse) { fu.Entrypoint, fu.User = "bin/app", tc.user }); err != nil {
			t.Fatal(err)
		}
		entries := initrdEntries(t, st, name)
		want := map[string]uint32{"/app/bin/helper": 0o4755, "/app/spool": 0o3777, "/app/bin/app": 0o755}
		for _, e := range entries {
			if m, ok := want[e.Path]; ok {
				if e.Mode != m || e.UID != tc.uid || e.GID != tc.uid {
					t.Errorf("user %q: %s is %04o %d:%d, want %04o %d:%d", tc.user, e.Path, e.Mode, e.UID, e.GID, m, tc.uid, tc.uid)
				}
				delete(want, e.Path)
			}
		}
		if len(want) > 0 {
			t.Errorf("user %q: image lacks %v", tc.user, want)
		}
	}
}

// initrdEntries reads the initramfs of image name in st.
func initrdEntries(t *testing.T, st store.Store, name string) []initramfs.Entry {
	t.Helper()
	ref, _ := store.ParseRef(name)
	raw, err := os.ReadFile(filepath.Join(st.Path(ref), "initrd.img"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := initramfs.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return entries
}
