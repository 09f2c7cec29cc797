package qemu

import (
	"bytes"
	"fmt"
	"os"
)

// AccelEnv names the environment variable that chooses QEMU's accelerator:
// kvm or tcg.
const AccelEnv = "KEEL_ACCEL"

// Accel is the accelerator QEMU uses; see ChooseAccel.
func Accel() (string, error) {
	a, _, err := ChooseAccel()
	return a, err
}

// ChooseAccel picks QEMU's accelerator: $KEEL_ACCEL when set; else KVM
// when /dev/kvm can be opened and this machine is not itself a virtual
// machine, and TCG (software emulation, several times slower) otherwise.
// note says why TCG was chosen where KVM might have served ("" otherwise),
// for a user to read.
//
// Why not KVM wherever /dev/kvm opens: nested KVM is often broken in ways
// only a boot shows. On a cloud VM of this project's CI, QEMU with
// -accel kvm aborted at the vCPU's reset ("failed to set MSR 0x10a") and,
// without that CPU feature, the kernel hung without a line; a probe boot
// would cost every run seconds. On such a machine, KEEL_ACCEL=kvm says
// that its nested KVM works.
func ChooseAccel() (accel, note string, err error) {
	if env := os.Getenv(AccelEnv); env != "" {
		return chooseAccel(env, false, false) // chosen: nothing to probe
	}
	kvmOpens := false
	if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err == nil {
		f.Close()
		kvmOpens = true
	}
	return chooseAccel("", kvmOpens, kvmOpens && insideVM())
}

// chooseAccel is ChooseAccel's decision, from what it found: the variable's
// value, whether /dev/kvm opens, whether this machine is a VM.
func chooseAccel(env string, kvmOpens, vm bool) (accel, note string, err error) {
	switch env {
	case "kvm", "tcg":
		return env, "", nil
	case "":
	default:
		return "", "", fmt.Errorf("%s=%q: want kvm or tcg (or leave it unset to choose by the machine)", AccelEnv, env)
	}
	switch {
	case !kvmOpens:
		return "tcg", "", nil
	case vm:
		return "tcg", "this machine is itself a VM, where nested KVM is often broken: " + AccelEnv + "=kvm tries it", nil
	}
	return "kvm", "", nil
}

// insideVM reports whether the CPU says a hypervisor runs this machine
// (the CPUID hypervisor bit, shown as a flag in /proc/cpuinfo).
func insideVM() bool {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if name, flags, ok := bytes.Cut(line, []byte(":")); ok && bytes.Equal(bytes.TrimSpace(name), []byte("flags")) {
			for _, f := range bytes.Fields(flags) {
				if string(f) == "hypervisor" {
					return true
				}
			}
			return false
		}
	}
	return false
}
