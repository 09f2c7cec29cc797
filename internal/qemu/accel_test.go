package qemu

import (
	"strings"
	"testing"

	"github.com/keelvm/keel/internal/testutil"
)

func TestChooseAccel(t *testing.T) {
	const nested = "KEEL_ACCEL=kvm tries it"
	for _, tc := range []struct {
		env             string
		kvmOpens, vm    bool
		want, note, err string
	}{
		{env: "kvm", want: "kvm"},
		{env: "tcg", kvmOpens: true, want: "tcg"},
		{env: "tcg", kvmOpens: true, vm: true, want: "tcg"},
		{env: "KVM", err: `KEEL_ACCEL="KVM": want kvm or tcg`},
		{env: "hvf", err: `KEEL_ACCEL="hvf": want kvm or tcg`},
		{want: "tcg"},
		{kvmOpens: true, want: "kvm"},
		{kvmOpens: true, vm: true, want: "tcg", note: nested},
	} {
		got, note, err := chooseAccel(tc.env, tc.kvmOpens, tc.vm)
		name := tc.env + map[bool]string{true: " /dev/kvm"}[tc.kvmOpens] + map[bool]string{true: " in a VM"}[tc.vm]
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want one containing %q", name, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want || !strings.Contains(note, tc.note) || (tc.note == "") != (note == "") {
			t.Errorf("%s: %q, note %q, %v; want %q, note %q", name, got, note, err, tc.want, tc.note)
		}
	}
}

func TestStartRefusesAnUnknownAccelerator(t *testing.T) {
	if err := Available(); err != nil {
		testutil.Unavailable(t, "%v", err)
	}
	_, err := Start(Config{Accel: "xen", Kernel: "/nonexistent", Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `accelerator "xen"`) {
		t.Errorf("Start with Accel xen: %v, want an error naming it", err)
	}
}
