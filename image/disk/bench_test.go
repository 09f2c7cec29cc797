package disk

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/keelvm/keel/bootcfg"
)

// BenchmarkWrite writes a typical image in each format: Debian's generic
// kernel, systemd-boot, and an initramfs with keel's init, the hello app
// and the e1000 and power-button modules. Besides the time per image it
// reports the file's size and the space it takes on disk (a raw image is
// sparse), in MiB:
//
//	go test -run '^$' -bench Write -benchtime 3x ./image/disk/
func BenchmarkWrite(b *testing.B) {
	kit := requireBootKit(b)
	dir := b.TempDir()
	initrd := writeInitrd(b, dir, kit.kernel, bootcfg.Config{App: "/app/hello"})
	spec := Spec{Kernel: kit.kernel.Vmlinuz, Initrd: initrd, BootEFI: kit.loader.Path, Cmdline: "console=ttyS0 panic=-1"}
	for _, in := range []string{spec.Kernel, spec.Initrd} {
		if fi, err := os.Stat(in); err == nil {
			b.Logf("%s: %.1f MiB", filepath.Base(in), float64(fi.Size())/mib)
		}
	}
	for _, f := range Formats {
		b.Run(string(f), func(b *testing.B) {
			out := filepath.Join(dir, "disk."+string(f))
			var size int64
			for b.Loop() {
				var err error
				if size, err = Write(spec, out, f); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size)/mib, "MiB")
			var st syscall.Stat_t
			if err := syscall.Stat(out, &st); err == nil {
				b.ReportMetric(float64(st.Blocks*512)/mib, "MiB-on-disk")
			}
		})
	}
}
