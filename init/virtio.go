package main

import (
	"os"
	"path/filepath"
	"strings"
)

// virtioModules are the modules of the virtio PCI transport and of
// virtio-net with its dependencies (REFERENCE.md section 6). An image for
// EC2 carries them for keel run's virtio NIC; on EC2 (ENA, NVMe) there is
// no virtio device, and loading them would only cost boot time.
var virtioModules = map[string]bool{
	"virtio": true, "virtio_ring": true, "virtio_pci": true, "virtio_pci_modern_dev": true,
	"virtio_pci_legacy_dev": true, "virtio_net": true, "failover": true, "net_failover": true,
}

// virtioVendor is the PCI vendor id of virtio devices (Red Hat, Qumranet).
const virtioVendor = "0x1af4"

// otherNICs are drivers of NICs that an image may carry beside virtio's:
// ENA, EC2's. Only such an image (-target aws) looks for a virtio device
// before loading virtio's modules; for an image whose one NIC is virtio
// (-target qemu) the look would only cost boot time.
var otherNICs = map[string]bool{"ena": true}

// skipAbsentVirtio drops the virtio modules from mods when they are there
// beside another NIC's driver and the machine has no virtio PCI device,
// and says so; other modules stay in their order.
func skipAbsentVirtio(mods []string) []string {
	virtio, other := false, false
	for _, m := range mods {
		virtio = virtio || virtioModules[moduleName(m)]
		other = other || otherNICs[moduleName(m)]
	}
	if !virtio || !other || hasPCIVendor("/sys/bus/pci/devices", virtioVendor) {
		return mods
	}
	out := make([]string, 0, len(mods))
	var skipped []string
	for _, m := range mods {
		if virtioModules[moduleName(m)] {
			skipped = append(skipped, moduleName(m))
			continue
		}
		out = append(out, m)
	}
	logf("modules: no virtio device: not loading %s", strings.Join(skipped, ", "))
	return out
}

// moduleName is a module's name from its path or name, with dashes as
// underscores (the same to the kernel).
func moduleName(m string) string {
	return strings.ReplaceAll(strings.TrimSuffix(filepath.Base(m), ".ko"), "-", "_")
}

// hasPCIVendor reports whether a device under dir (sysfs's PCI devices)
// has the vendor id. Unreadable sysfs: assume it has, and load.
func hasPCIVendor(dir, vendor string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return true
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "vendor"))
		if err == nil && strings.TrimSpace(string(b)) == vendor {
			return true
		}
	}
	return false
}
