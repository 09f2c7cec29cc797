package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/keelvm/keel/image/store"
)

// memoryFor is the VM's memory: what -memory asks (refused when less than
// the image needs, before booting), else the image's need from its
// manifest (512 MB for an image fused before keel recorded it).
func memoryFor(m store.Manifest, asked int) (int, error) {
	need := 0
	if m.Memory != nil {
		need = m.Memory.MinMB
	}
	switch {
	case asked == 0 && need == 0:
		return 512, nil
	case asked == 0:
		return need, nil
	case asked < need:
		mm := m.Memory
		return 0, fmt.Errorf("-memory %d: image %s needs at least %d MB (kernel and init %d, initramfs %d, overlay %d, app %d): give -memory %d or more", asked, m.Name, need, mm.KernelMB, mm.InitramfsMB, mm.OverlayMB, mm.AppMB, need)
	}
	return asked, nil
}

// appDiskOf returns the path of the image's app disk, checked against the
// manifest, or "" when the app is in the initramfs.
func appDiskOf(st store.Store, ref store.Ref, m store.Manifest) (string, error) {
	if m.AppDisk == nil {
		return "", nil
	}
	if m.Target != "qemu" {
		return "", fmt.Errorf("image %s keeps its app on a partition of its %s disk image, which keel run does not boot: fuse it with -target qemu to run it here", ref, m.Target)
	}
	if m.Config.AppDisk == nil || m.Config.AppDisk.Serial == "" {
		return "", fmt.Errorf("image %s: its manifest lists an app disk that its configuration does not find by serial: fuse it again with -force", ref)
	}
	p := filepath.Join(st.Path(ref), m.AppDisk.Artifact)
	if err := st.Verify(ref, m, m.AppDisk.Artifact); err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("image %s: app disk %w: fuse it again with -force", ref, err)
	}
	return p, nil
}

// consoleHints name the cause of a boot failure from the kernel's words.
var consoleHints = []struct{ text, hint string }{
	{"Initramfs unpacking failed", "the kernel could not unpack the initramfs: the VM has too little memory (give -memory MB)"},
	{"Out of memory", "the VM ran out of memory (give -memory MB)"},
	{"not syncing: System is deadlocked on memory", "the VM ran out of memory (give -memory MB)"},
	{"No working init found", "the kernel found no /init: the initramfs is damaged, or unpacked in part (give -memory MB)"},
	{"Kernel panic", "the kernel panicked"},
}

// disorderly says why the VM stopped without init's power-off: the
// kernel's last console lines, and their cause where the kernel names it.
func (r *runner) disorderly(waitErr error) error {
	msg := "the VM stopped without an orderly power-off"
	if waitErr != nil {
		msg += fmt.Sprintf(" (QEMU: %v)", waitErr)
	}
	out := ""
	if r.console != nil {
		out = strings.ReplaceAll(r.console(), "\r", "")
	}
	for _, h := range consoleHints {
		if strings.Contains(out, h.text) {
			msg += ": " + h.hint
			break
		}
	}
	if strings.TrimSpace(out) == "" {
		return errors.New(msg + "; it printed nothing on its console")
	}
	if r.flags.console {
		return errors.New(msg + " (its console is above)")
	}
	return fmt.Errorf("%s; the last lines of its console:\n%s\n(keel run -console shows all of it)", msg, indent(tailLines(out, 20)))
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
