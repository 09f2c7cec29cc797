package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

func init() { benches = append(benches, bench{"run.jar", benchRunJar}) }

// benchRunJar times a hello-world JAR (its runtime jlinked from this
// host's JDK) from QEMU's start to its first line on the console, under
// TCG, on the app disk and unpacked into RAM with the initramfs: the A/B
// of run.jar_first_line_s. Without a JDK it says so and reports nothing.
func benchRunJar(scratch string, _ int) error {
	for _, tool := range []string{"javac", "jar", "jlink", "jdeps"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "bench: no %s on this host: no run.jar figures\n", tool)
			return nil
		}
	}
	a, err := newAppDiskBench(scratch)
	if a == nil || err != nil {
		return err
	}
	const line = "first line from java"
	dir := filepath.Join(a.dir, "runjar")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	src := "public class Hello { public static void main(String[] a) { System.out.println(\"" + line + "\"); } }\n"
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
	if _, err := a.fuse(jar, "", "bench/jar:disk", "yes"); err != nil {
		return err
	}
	if _, err := a.fuse(jar, "", "bench/jar:ram", "no"); err != nil {
		return err
	}
	disk, _, err := a.median3Guest("bench/jar:disk", 512, line)
	if err != nil {
		return err
	}
	ram, _, err := a.median3Guest("bench/jar:ram", 512, line)
	if err != nil {
		return err
	}
	report("run.jar_first_line_s", disk.Seconds(), "s (hello-world JAR on the app disk, TCG, QEMU start to the line, median of 3)")
	report("run.jar_first_line_ram_s", ram.Seconds(), "s (the same unpacked into RAM with the initramfs)")
	report("run.jar_first_line_ratio", ram.Seconds()/disk.Seconds(), "ratio (RAM over app disk: above 1, the app disk is faster)")
	return nil
}
