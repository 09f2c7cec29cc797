package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/keelvm/keel/internal/qemu"
)

// firmware is Debian's OVMF (package ovmf): the UEFI firmware that boots
// disk images.
const firmware = "/usr/share/ovmf/OVMF.fd"

// machineFor is how keel run boots an image: as its target's hypervisor
// does.
type machineFor struct {
	cfg   qemu.Config
	files []string // the artifacts it boots, checked against the manifest
}

// targetMachine is the machine of a target, for the image in dir:
//   - qemu: the kernel and initramfs booted directly, a virtio NIC;
//   - virtualbox: UEFI from disk.vdi on AHCI (SATA), an e1000 NIC;
//   - aws: UEFI from disk.raw on NVMe, as EC2's Nitro instances; QEMU has
//     no ENA, so a virtio NIC (aws images carry its modules).
func targetMachine(dir, target string) (machineFor, error) {
	switch target {
	case "qemu", "":
		return machineFor{cfg: qemu.Config{Kernel: filepath.Join(dir, "vmlinuz"), Initrd: filepath.Join(dir, "initrd.img"), NIC: "virtio-net-pci"},
			files: []string{"vmlinuz", "initrd.img"}}, nil
	case "virtualbox", "aws":
		if _, err := os.Stat(firmware); err != nil {
			return machineFor{}, fmt.Errorf("fused for %s, which boots from its disk with UEFI firmware: %s is missing (install the Debian package ovmf)", target, firmware)
		}
		if target == "virtualbox" {
			return machineFor{cfg: qemu.Config{Disk: filepath.Join(dir, "disk.vdi"), DiskFormat: "vdi", DiskBus: qemu.BusAHCI, Firmware: firmware, NIC: "e1000"},
				files: []string{"disk.vdi"}}, nil
		}
		return machineFor{cfg: qemu.Config{Disk: filepath.Join(dir, "disk.raw"), DiskFormat: "raw", DiskBus: qemu.BusNVMe, Firmware: firmware, NIC: "virtio-net-pci"},
			files: []string{"disk.raw"}}, nil
	}
	return machineFor{}, fmt.Errorf("fused for target %q, which keel run does not know: fuse it with -target qemu, virtualbox or aws", target)
}
