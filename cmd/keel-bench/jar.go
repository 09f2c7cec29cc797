package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/internal/home"
)

func init() { benches = append(benches, bench{"jar", benchJar}) }

// benchJar times `keel fuse hello.jar` (a hello-world JAR compiled here,
// with a runtime jlinked from this host's JDK: the first fuse runs jlink,
// the second finds its runtime cached, the baseline) and sizes the image
// (kernel and initramfs). Without a JDK it says so and reports nothing.
func benchJar(scratch string, _ int) error {
	keelBin, err := filepath.Abs("bin/keel")
	if err != nil {
		return err
	}
	if _, err := os.Stat("bin/keel-init"); err != nil {
		return fmt.Errorf("bin/keel-init: run make build first (make bench does): %w", err)
	}
	for _, tool := range []string{"javac", "jar", "jlink", "jdeps"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "bench: no %s on this host: no fuse.jar figure\n", tool)
			return nil
		}
	}
	cache, err := home.Path("kernels")
	if err != nil {
		return err
	}
	if _, err := kernel.Ensure(cache, "", os.Stderr); err != nil {
		return err
	}
	dir := filepath.Join(scratch, "jar")
	kh := filepath.Join(dir, "keel-home")
	os.MkdirAll(kh, 0o755)
	if err := os.Symlink(cache, filepath.Join(kh, "kernels")); err != nil && !os.IsExist(err) {
		return err
	}
	src := "public class Hello { public static void main(String[] a) { System.out.println(\"hello from java\"); } }\n"
	if err := os.WriteFile(filepath.Join(dir, "Hello.java"), []byte(src), 0o644); err != nil {
		return err
	}
	jar := filepath.Join(dir, "hello.jar")
	for _, c := range [][]string{{"javac", "-d", filepath.Join(dir, "classes"), filepath.Join(dir, "Hello.java")},
		{"jar", "--create", "--file", jar, "--main-class", "Hello", "-C", filepath.Join(dir, "classes"), "."}} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%v: %v\n%s", c, err, out)
		}
	}
	fuse := func(version string) (time.Duration, error) {
		c := exec.Command(keelBin, "fuse", jar, "-name", "bench/jar:"+version, "-init", "bin/keel-init")
		c.Env = append(os.Environ(), "KEEL_HOME="+kh)
		t0 := time.Now()
		if out, err := c.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("keel fuse %s: %v\n%s", jar, err, out)
		}
		return time.Since(t0), nil
	}
	cold, err := fuse("1")
	if err != nil {
		return err
	}
	warm, err := fuse("2")
	if err != nil {
		return err
	}
	report("fuse.jar_s", cold.Seconds(), fmt.Sprintf("s (hello-world JAR, jlink included; %.2f s with the runtime cached, kernel cached)", warm.Seconds()))
	var size int64
	for _, a := range []string{"vmlinuz", "initrd.img"} {
		fi, err := os.Stat(filepath.Join(kh, "images", "bench", "jar", "1", a))
		if err != nil {
			return err
		}
		size += fi.Size()
	}
	report("image.jar_mb", float64(size)/1e6, "MB (vmlinuz + initrd.img: init, the JAR, its jlinked runtime, libraries; goal <= 60)")
	return nil
}
