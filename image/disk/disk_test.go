package disk

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/partition/gpt"
)

// fakeSpec writes stand-ins for the kernel, initramfs and boot loader:
// the layout does not care what they hold. Their contents derive from
// seed, so the same seed gives the same files.
func fakeSpec(t testing.TB, dir, seed string, sizes ...int) Spec {
	t.Helper()
	if len(sizes) == 0 {
		sizes = []int{3 << 20, 2 << 20, 100 << 10}
	}
	names := []string{"vmlinuz", "initrd.img", "BOOTX64.EFI"}
	paths := make([]string, 3)
	for i, name := range names {
		var b bytes.Buffer
		block := sha256.Sum256([]byte(seed + name))
		for b.Len() < sizes[i] {
			block = sha256.Sum256(block[:])
			b.Write(block[:])
		}
		paths[i] = filepath.Join(dir, name)
		if err := os.WriteFile(paths[i], b.Bytes()[:sizes[i]], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Spec{Kernel: paths[0], Initrd: paths[1], BootEFI: paths[2], Cmdline: "console=ttyS0 panic=-1 keel.net=dhcp"}
}

// TestWriteLayout reads a raw image back with go-diskfs: a protective MBR,
// a GPT with one EFI system partition from 1 MiB, and on it a FAT32 file
// system holding exactly the boot loader, its configuration, the kernel and
// the initramfs, with fixed timestamps.
func TestWriteLayout(t *testing.T) {
	dir := t.TempDir()
	spec := fakeSpec(t, dir, "layout")
	out := filepath.Join(dir, "disk.raw")
	size, err := Write(spec, out, Raw)
	if err != nil {
		t.Fatal(err)
	}
	if size != espStart+espMin+mib {
		t.Fatalf("size %d, want %d (minimum ESP)", size, espStart+espMin+mib)
	}
	raw, _ := os.ReadFile(out)
	if raw[450] != 0xee || raw[510] != 0x55 || raw[511] != 0xaa {
		t.Fatalf("no protective MBR: type %#x, signature %x", raw[450], raw[510:512])
	}
	d, err := diskfs.Open(out, diskfs.WithOpenMode(diskfs.ReadOnly))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	pt, err := d.GetPartitionTable()
	if err != nil {
		t.Fatal(err)
	}
	table, ok := pt.(*gpt.Table)
	if !ok || table.RecoveredFromBackup {
		t.Fatalf("partition table %T, from backup: %v", pt, ok && table.RecoveredFromBackup)
	}
	if len(table.Partitions) != 1 {
		t.Fatalf("%d partitions, want 1", len(table.Partitions))
	}
	p := table.Partitions[0]
	if p.Type != gpt.EFISystemPartition || p.Start != 2048 || p.End != 2048+espMin/512-1 || p.Name != "EFI system partition" {
		t.Fatalf("partition %+v", p)
	}
	for _, g := range []string{table.GUID, p.GUID} {
		if strings.Trim(g, "0-") == "" {
			t.Fatalf("zero GUID in %+v", table)
		}
	}
	if strings.EqualFold(table.GUID, p.GUID) {
		t.Fatalf("disk and partition share GUID %s", p.GUID)
	}

	fsys, err := d.GetFilesystem(1)
	if err != nil {
		t.Fatal(err)
	}
	if fsys.Type() != filesystem.TypeFat32 {
		t.Fatalf("file system type %v", fsys.Type())
	}
	if l := strings.TrimSpace(fsys.Label()); l != "KEEL-ESP" {
		t.Fatalf("label %q", l)
	}
	want := map[string]string{
		"/EFI/BOOT/BOOTX64.EFI":     read(t, spec.BootEFI),
		"/vmlinuz":                  read(t, spec.Kernel),
		"/initrd.img":               read(t, spec.Initrd),
		"/loader/loader.conf":       "default keel.conf\ntimeout 0\nconsole-mode keep\neditor no\n",
		"/loader/entries/keel.conf": "title keel\nlinux /vmlinuz\ninitrd /initrd.img\noptions " + spec.Cmdline + "\n",
	}
	got := map[string]string{}
	err = fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		if p != "." && !info.ModTime().Equal(fatTime) {
			t.Errorf("%s: time %v, want %v", p, info.ModTime(), fatTime)
		}
		if !e.IsDir() {
			b, err := fsys.ReadFile(p)
			if err != nil {
				return err
			}
			got["/"+p] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("files %v, want %d", keys(got), len(want))
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: %d bytes, want %d (%.60q)", p, len(got[p]), len(w), got[p])
		}
	}
	boot := raw[espStart : espStart+512]
	if serial := binary.LittleEndian.Uint32(boot[0x43:]); serial == 0 {
		t.Error("volume serial is 0")
	}
	if hidden := binary.LittleEndian.Uint32(boot[0x1c:]); hidden != 2048 {
		t.Errorf("hidden sectors %d, want 2048", hidden)
	}
}

// TestWriteESPSize: the ESP holds the files plus slack, whole MiB, at
// least espMin.
func TestWriteESPSize(t *testing.T) {
	cases := []struct {
		name  string
		sizes []int
		esp   int64
	}{
		{"small files: minimum", []int{1 << 20, 1 << 20, 1 << 10}, espMin},
		{"large initramfs", []int{8 << 20, 40<<20 + 1, 100 << 10}, 65 * mib}, // 48.1 MiB + 16, rounded up
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			spec := fakeSpec(t, dir, tc.name, tc.sizes...)
			size, err := Write(spec, filepath.Join(dir, "disk.raw"), Raw)
			if err != nil {
				t.Fatal(err)
			}
			if want := espStart + tc.esp + mib; size != want {
				t.Fatalf("size %d MiB, want %d MiB", size/mib, want/mib)
			}
		})
	}
}

// TestWriteReproducible: the same inputs give the same bytes in every
// format, whatever the time and directory; another command line gives
// another image with other identifiers.
func TestWriteReproducible(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			a, b := t.TempDir(), t.TempDir()
			var images [3][]byte
			for i, dir := range []string{a, b, b} {
				spec := fakeSpec(t, dir, "same")
				if i == 2 {
					spec.Cmdline += " quiet"
				}
				out := filepath.Join(dir, "disk."+string(f))
				if _, err := Write(spec, out, f); err != nil {
					t.Fatal(err)
				}
				images[i] = []byte(read(t, out))
			}
			if !bytes.Equal(images[0], images[1]) {
				t.Fatal("same inputs, different images")
			}
			if bytes.Equal(images[1], images[2]) {
				t.Fatal("different command lines, same image")
			}
		})
	}
	id1, id2 := mustBuild(t, "x").ids, mustBuild(t, "y").ids
	if id1.uuid("disk") == id2.uuid("disk") || id1.serial() == id2.serial() {
		t.Fatal("different inputs, same identifiers")
	}
}

func mustBuild(t *testing.T, seed string) *image {
	img, err := build(fakeSpec(t, t.TempDir(), seed))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestWriteBadInput: a missing input or a bad argument fails with an
// error naming the operation and the culprit, and leaves nothing behind;
// an image already at the output stays as it was.
func TestWriteBadInput(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(*Spec)
		format Format
		want   []string
	}{
		{"missing kernel", func(s *Spec) { s.Kernel += ".gone" }, Raw, []string{"write disk image", "read kernel", "vmlinuz.gone", "no such file"}},
		{"missing initramfs", func(s *Spec) { s.Initrd += ".gone" }, VDI, []string{"read initramfs", "initrd.img.gone"}},
		{"missing boot loader", func(s *Spec) { s.BootEFI += ".gone" }, VMDK, []string{"read boot loader", "BOOTX64.EFI.gone"}},
		{"no kernel", func(s *Spec) { s.Kernel = "" }, Raw, []string{"no kernel given"}},
		{"kernel is a directory", func(s *Spec) { s.Kernel = filepath.Dir(s.Kernel) }, Raw, []string{"read kernel", "is a directory"}},
		{"line break in command line", func(s *Spec) { s.Cmdline += "\ntimeout 10" }, Raw, []string{"command line holds a line break"}},
		{"unknown format", func(*Spec) {}, "qcow2", []string{`unknown format "qcow2"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, outDir := t.TempDir(), t.TempDir()
			spec := fakeSpec(t, in, "bad")
			tc.edit(&spec)
			for _, existing := range []bool{false, true} {
				out := filepath.Join(outDir, "disk.img")
				if existing {
					os.WriteFile(out, []byte("old image"), 0o644)
				}
				_, err := Write(spec, out, tc.format)
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range append(tc.want, out) {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				entries, _ := os.ReadDir(outDir)
				if existing {
					if len(entries) != 1 || read(t, out) != "old image" {
						t.Fatalf("existing image touched: %v", entries)
					}
				} else if len(entries) != 0 {
					t.Fatalf("left behind: %v", entries)
				}
			}
		})
	}
}

// TestWriteUnwritable: a failure while writing (here a missing output
// directory) names the format and the output.
func TestWriteUnwritable(t *testing.T) {
	spec := fakeSpec(t, t.TempDir(), "unwritable")
	out := filepath.Join(t.TempDir(), "gone", "disk.vdi")
	if _, err := Write(spec, out, VDI); err == nil || !strings.Contains(err.Error(), "write vdi image "+out) {
		t.Fatalf("error %v", err)
	}
}

func read(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func keys(m map[string]string) []string {
	var k []string
	for p := range m {
		k = append(k, p)
	}
	return k
}
