package kernel

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CheckInitramfs says whether the kernel can unpack keel's initramfs,
// which is zstd-compressed: its build configuration (boot/config-VERSION,
// shipped in Debian's packages) must have CONFIG_RD_ZSTD=y. A kernel
// without that file is taken on trust: nothing else tells before it boots.
func (k *Kernel) CheckInitramfs() error {
	p := filepath.Join(k.Dir, "boot", "config-"+k.Version)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kernel %s: read its configuration: %w", k.Version, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "CONFIG_RD_ZSTD=y" {
			return nil
		}
	}
	return fmt.Errorf("kernel %s cannot unpack keel's zstd-compressed initramfs: %s lacks CONFIG_RD_ZSTD=y; use Linux 5.9 or later built with it, as Debian bookworm's linux-image-amd64 is", k.Version, p)
}
