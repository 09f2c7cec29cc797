package qemu

import (
	"os"
	"strings"
	"testing"
)

func TestAccelFromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		env, want, err string
	}{
		{env: "kvm", want: "kvm"},
		{env: "tcg", want: "tcg"},
		{env: "KVM", err: `KEEL_ACCEL="KVM": want kvm or tcg`},
		{env: "hvf", err: `KEEL_ACCEL="hvf": want kvm or tcg`},
	} {
		t.Setenv(AccelEnv, tc.env)
		got, err := Accel()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s=%s: error %v, want one containing %q", AccelEnv, tc.env, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s=%s: %q, %v; want %q", AccelEnv, tc.env, got, err, tc.want)
		}
	}
}

func TestAccelUnsetIsTCGInsideAVM(t *testing.T) {
	t.Setenv(AccelEnv, "")
	if !insideVM() {
		t.Skip("not a virtual machine: KVM is chosen where /dev/kvm opens")
	}
	if got, err := Accel(); err != nil || got != "tcg" {
		t.Errorf("inside a VM with %s unset: %q, %v; want tcg", AccelEnv, got, err)
	}
}

func TestStartRefusesAnUnknownAccelerator(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	_, err := Start(Config{Accel: "xen", Kernel: "/nonexistent", Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `accelerator "xen"`) {
		t.Errorf("Start with Accel xen: %v, want an error naming it", err)
	}
}

func TestAccelNote(t *testing.T) {
	t.Setenv(AccelEnv, "tcg")
	if n := AccelNote(); n != "" {
		t.Errorf("with %s set: note %q, want none", AccelEnv, n)
	}
	t.Setenv(AccelEnv, "")
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err == nil {
		f.Close()
	}
	want := insideVM() && err == nil
	if n := AccelNote(); (n != "") != want || want && !strings.Contains(n, "KEEL_ACCEL=kvm tries it") {
		t.Errorf("note %q; want one: %v", n, want)
	}
}
