package qemu

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Disk controllers a disk boots from, as the targets' hypervisors have
// them: AHCI (SATA) on VirtualBox, NVMe on EC2's Nitro instances.
const (
	BusAHCI = "ahci"
	BusNVMe = "nvme"
)

// diskArgs are the arguments that boot cfg.Disk through UEFI firmware:
// a copy of the firmware (OVMF writes its variable store), the disk
// opened with snapshot=on (the guest's writes go to a temporary overlay,
// never into the image), on the controller cfg.DiskBus names.
func diskArgs(cfg Config) ([]string, error) {
	if cfg.Firmware == "" {
		return nil, errors.New("boot disk: no UEFI firmware given (install the Debian package ovmf)")
	}
	fw := filepath.Join(cfg.Dir, "firmware.fd")
	if err := copyFile(cfg.Firmware, fw); err != nil {
		return nil, fmt.Errorf("copy firmware %s: %w", cfg.Firmware, err)
	}
	format := cfg.DiskFormat
	if format == "" {
		format = "raw"
	}
	args := []string{"-bios", fw,
		"-drive", "file=" + strings.ReplaceAll(cfg.Disk, ",", ",,") + ",format=" + format + ",if=none,id=d0,snapshot=on"}
	switch cfg.DiskBus {
	case "", BusAHCI:
		// q35's built-in ICH9 AHCI controller: the SATA disk VirtualBox gives by default.
		args = append(args, "-device", "ide-hd,drive=d0,bus=ide.0")
	case BusNVMe:
		args = append(args, "-device", "nvme,serial=keel0,drive=d0")
	default:
		return nil, fmt.Errorf("boot disk: bus %q: want %s or %s", cfg.DiskBus, BusAHCI, BusNVMe)
	}
	return args, nil
}
