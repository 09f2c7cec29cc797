package elfdeps

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// build compiles the test programs: a static Go binary, one linking
// crypto/tls, and a C program linking libc and libm dynamically.
func build(t *testing.T) (static, tls, dynamic string) {
	t.Helper()
	dir := t.TempDir()
	static, tls, dynamic = filepath.Join(dir, "static"), filepath.Join(dir, "tls"), filepath.Join(dir, "dynamic")
	write := func(name, src string) string {
		d := filepath.Join(dir, name+"-src")
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "main.go"), []byte(src), 0o644)
		os.WriteFile(filepath.Join(d, "go.mod"), []byte("module x\n"), 0o644)
		return d
	}
	gobuild := func(src, out string) {
		cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", out, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, b)
		}
	}
	gobuild(write("static", "package main\nfunc main() { println(\"hi\") }\n"), static)
	gobuild(write("tls", "package main\nimport \"crypto/tls\"\nfunc main() { c, _ := tls.Dial(\"tcp\", \"x:1\", nil); _ = c }\n"), tls)
	if b, err := exec.Command("gcc", "-O1", "-o", dynamic, "testdata/hello.c", "-lm").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	return
}

func TestInspect(t *testing.T) {
	static, tls, dynamic := build(t)
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("hello\n"), 0o644)
	script := filepath.Join(dir, "run.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o755)
	arm := filepath.Join(dir, "arm")
	b, _ := os.ReadFile(static)
	b[18], b[19] = 0xb7, 0x00 // e_machine = EM_AARCH64
	os.WriteFile(arm, b, 0o755)

	cases := []struct {
		name, path string
		static     bool
		tls        bool
		libs       []string
		err        string
	}{
		{name: "static Go", path: static, static: true},
		{name: "Go with crypto/tls", path: tls, static: true, tls: true},
		{name: "dynamic C", path: dynamic, libs: []string{"libm.so.6", "libc.so.6"}},
		{name: "text", path: text, err: "not an ELF executable: its first bytes are not"},
		{name: "script", path: script, err: "it is a script"},
		{name: "arm64", path: arm, err: "built for EM_AARCH64"},
		{name: "missing", path: filepath.Join(dir, "nope"), err: "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			info, err := Inspect(tc.path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.Static != tc.static || info.TLS != tc.tls {
				t.Fatalf("static %v tls %v, want %v %v", info.Static, info.TLS, tc.static, tc.tls)
			}
			var names []string
			for _, l := range info.Libs {
				names = append(names, l.Name)
				if _, err := os.Stat(l.Path); err != nil {
					t.Fatalf("lib %s at %s: %v", l.Name, l.Path, err)
				}
			}
			if strings.Join(names, ",") != strings.Join(tc.libs, ",") {
				t.Fatalf("libs %v, want %v", names, tc.libs)
			}
			if !tc.static && (info.Interp != "/lib64/ld-linux-x86-64.so.2" || info.InterpHost == "") {
				t.Fatalf("interpreter %q at %q", info.Interp, info.InterpHost)
			}
		})
	}
	if !errors.Is(func() error { _, err := Inspect(text); return err }(), ErrNotELF) {
		t.Fatal("a text file is not ErrNotELF")
	}
}

// TestMissingLibrary: a library the loader would not find is an error that
// names it and says what to do.
func TestMissingLibrary(t *testing.T) {
	_, _, dynamic := build(t)
	r := &Resolver{Dirs: []string{t.TempDir()}}
	_, err := r.Inspect(dynamic)
	if err == nil || !strings.Contains(err.Error(), "needs shared library libm.so.6") || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Fatalf("err = %v", err)
	}
}
