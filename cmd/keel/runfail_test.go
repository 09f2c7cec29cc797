package main

import (
	"io"
	"strings"
	"testing"

	"github.com/keelvm/keel/image/store"
)

func TestMemoryFor(t *testing.T) {
	need := &store.Memory{MinMB: 190, KernelMB: 96, InitramfsMB: 14, OverlayMB: 32, AppMB: 48}
	cases := []struct {
		mem     *store.Memory
		asked   int
		want    int
		wantErr string
	}{
		{nil, 0, 512, ""},   // fused before keel recorded its need
		{nil, 256, 256, ""}, // asked
		{need, 0, 190, ""},  // the image's need
		{need, 1024, 1024, ""},
		{need, 128, 0, "needs at least 190 MB (kernel and init 96, initramfs 14, overlay 32, app 48): give -memory 190 or more"},
	}
	for _, tc := range cases {
		got, err := memoryFor(store.Manifest{Name: "t/py:1", Memory: tc.mem}, tc.asked)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("memoryFor(%v, %d): %v, want %q", tc.mem, tc.asked, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("memoryFor(%v, %d) = %d, %v; want %d", tc.mem, tc.asked, got, err, tc.want)
		}
	}
}

// TestDisorderly: a VM that stops without init's power-off shows the
// console's last lines and the cause the kernel names, never "<nil>".
func TestDisorderly(t *testing.T) {
	console := "Linux version 6.1\r\n[    1.5] Initramfs unpacking failed: write error\r\n[    2.3] Kernel panic - not syncing: No working init found.\r\n"
	r := &runner{stdout: io.Discard, stderr: io.Discard, console: func() string { return console }}
	err := r.disorderly(nil)
	for _, w := range []string{"without an orderly power-off: the kernel could not unpack the initramfs: the VM has too little memory", "  [    2.3] Kernel panic", "-console shows all"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	if strings.Contains(err.Error(), "<nil>") || strings.Contains(err.Error(), "\r") {
		t.Errorf("error: %q", err)
	}
	r.console = func() string { return "" }
	if err := r.disorderly(nil); !strings.Contains(err.Error(), "printed nothing") {
		t.Errorf("empty console: %v", err)
	}
}
