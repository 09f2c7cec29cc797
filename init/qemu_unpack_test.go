package main

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/image/initramfs"
)

// TestQEMUPartialInitramfs: an initramfs cut short (as when the kernel runs
// out of memory while unpacking, which it reports only in its log) makes
// init power off saying so, instead of running the app on a partial root.
// The archive ends with 4 MB of incompressible data (/zz, after /init and
// the modules in path order) and is cut in its middle: /init is whole,
// the rest of /zz and the completion marker are lost.
func TestQEMUPartialInitramfs(t *testing.T) {
	k := requireQEMU(t)
	dir := t.TempDir()
	filler := make([]byte, 4<<20)
	rand.Read(filler)
	initrd := image(t, dir, k, bootcfg.Config{App: "/app/hello"}, initramfs.Entry{Path: "/zz/filler", Kind: initramfs.File, Mode: 0o644, Data: filler})
	b, err := os.ReadFile(initrd)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.img")
	if err := os.WriteFile(cut, b[:len(b)-2<<20], 0o644); err != nil {
		t.Fatal(err)
	}
	console := boot(t, k, cut, "keel.net=none")
	for _, w := range []string{"Initramfs unpacking failed", "the initramfs was unpacked only in part", "the kernel: Initramfs unpacking failed", "powering off (status 1)"} {
		if !strings.Contains(console, w) {
			t.Fatalf("console lacks %q:\n%s", w, console)
		}
	}
	t.Log(lines(console, "Initramfs", "keel init"))
	if strings.Contains(console, "started pid") {
		t.Fatalf("the app ran on a partial root:\n%s", console)
	}
}

// lines returns the console's lines that contain any of words.
func lines(console string, words ...string) string {
	var out []string
	for _, l := range strings.Split(console, "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				out = append(out, strings.TrimRight(l, "\r"))
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
