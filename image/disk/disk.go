package disk

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/diskfs/go-diskfs/partition/gpt"
)

// Spec is what a disk image boots.
type Spec struct {
	Kernel  string // host path of the kernel (bzImage with EFI stub)
	Initrd  string // host path of the initramfs
	Cmdline string // kernel command line
	BootEFI string // host path of systemd-boot (efi.Ensure gives it)
	// AppDisk is the host path of the image's app disk (a filesystem
	// image), written as a second partition named AppPartName; "": none.
	AppDisk string
}

// Format is an image file format.
type Format string

// The formats Write knows.
const (
	Raw  Format = "raw"  // the disk's bytes, written sparse; AWS import-snapshot, dd
	VMDK Format = "vmdk" // streamOptimized: VMware, AWS import-image, OVA
	VDI  Format = "vdi"  // VirtualBox's dynamic image
)

// Formats lists the formats in the order to offer them.
var Formats = []Format{Raw, VMDK, VDI}

const (
	sectorSize = 512
	mib        = 1 << 20
	// espStart leaves the first MiB to the protective MBR and the GPT,
	// aligning the partition as every partitioning tool does.
	espStart = 1 * mib
	// espSlack is room on the ESP beyond the files: FAT tables,
	// directories, and space for the firmware or a user to write to.
	espSlack = 16 * mib
	// espMin keeps FAT32 valid: it needs at least 65,525 clusters, and
	// go-diskfs uses 512-byte clusters below 260 MiB.
	espMin = 40 * mib
)

// Write writes the disk image that boots spec to out in format f and
// returns the size of the file. It is atomic: on failure nothing is left
// at out, and an existing file there is replaced only by a complete image.
func Write(spec Spec, out string, f Format) (int64, error) {
	enc, ok := encoders[f]
	if !ok {
		return 0, fmt.Errorf("write disk image %s: unknown format %q (use raw, vmdk or vdi)", out, f)
	}
	img, err := build(spec)
	if err != nil {
		return 0, fmt.Errorf("write disk image %s: %w", out, err)
	}
	img.name = filepath.Base(out)
	size, err := writeAtomic(out, func(w *os.File) error { return enc(w, img) })
	if err != nil {
		return 0, fmt.Errorf("write %s image %s: %w", f, out, err)
	}
	return size, nil
}

// image is an assembled disk, ready to encode.
type image struct {
	data []byte // the raw disk, a whole number of MiB
	ids  ids
	name string // of the output file, for the VMDK descriptor
}

// build lays out the disk in memory.
func build(spec Spec) (*image, error) {
	if strings.ContainsAny(spec.Cmdline, "\r\n") {
		return nil, errors.New("kernel command line holds a line break")
	}
	inputs := []struct {
		what, host, esp string
	}{
		{"boot loader", spec.BootEFI, "/EFI/BOOT/BOOTX64.EFI"},
		{"kernel", spec.Kernel, "/vmlinuz"},
		{"initramfs", spec.Initrd, "/initrd.img"},
	}
	h := sha256.New()
	var files []espFile
	var total int64
	for _, in := range inputs {
		if in.host == "" {
			return nil, fmt.Errorf("no %s given", in.what)
		}
		b, err := os.ReadFile(in.host)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", in.what, err)
		}
		sum := sha256.Sum256(b)
		fmt.Fprintf(h, "%s %x\n", in.esp, sum)
		files = append(files, espFile{in.esp, b})
		total += int64(len(b))
	}
	fmt.Fprintf(h, "cmdline %q\n", spec.Cmdline)
	var app []byte
	if spec.AppDisk != "" {
		b, err := os.ReadFile(spec.AppDisk)
		if err != nil {
			return nil, fmt.Errorf("read app disk: %w", err)
		}
		sum := sha256.Sum256(b)
		fmt.Fprintf(h, "appdisk %x\n", sum)
		app = b
	}
	var id ids
	h.Sum(id.seed[:0])
	files = append(files, loaderFiles(spec.Cmdline)...)

	espSize := max(roundUp(total+espSlack, mib), espMin)
	// The backup GPT needs 33 sectors at the end; a whole MiB keeps the
	// disk a whole number of VDI blocks and VMDK grains.
	appStart := espStart + espSize
	appSize := roundUp(int64(len(app)), mib)
	d := newMemDisk(appStart + appSize + mib)
	table := &gpt.Table{
		LogicalSectorSize:  sectorSize,
		PhysicalSectorSize: sectorSize,
		ProtectiveMBR:      true,
		GUID:               id.uuid("disk").String(),
		Partitions: []*gpt.Partition{{
			Index: 1,
			Start: espStart / sectorSize,
			End:   uint64((espStart+espSize)/sectorSize - 1),
			Type:  gpt.EFISystemPartition,
			Name:  "EFI system partition",
			GUID:  id.uuid("esp").String(),
		}},
	}
	if len(app) > 0 {
		table.Partitions = append(table.Partitions, &gpt.Partition{
			Index: 2,
			Start: uint64(appStart / sectorSize),
			End:   uint64((appStart+appSize)/sectorSize - 1),
			Type:  gpt.LinuxFilesystem,
			Name:  AppPartName,
			GUID:  id.uuid("app").String(),
		})
		copy(d.b[appStart:], app)
	}
	if err := table.Write(d, int64(len(d.b))); err != nil {
		return nil, fmt.Errorf("write GPT: %w", err)
	}
	if err := writeESP(d, espStart, espSize, files, id.serial()); err != nil {
		return nil, fmt.Errorf("write ESP: %w", err)
	}
	return &image{data: d.b, ids: id}, nil
}

// loaderFiles are systemd-boot's configuration: boot the keel entry at
// once (timeout 0; a key held at boot still shows the menu).
func loaderFiles(cmdline string) []espFile {
	return []espFile{
		{"/loader/loader.conf", []byte("default keel.conf\ntimeout 0\nconsole-mode keep\neditor no\n")},
		{"/loader/entries/keel.conf", []byte("title keel\nlinux /vmlinuz\ninitrd /initrd.img\noptions " + cmdline + "\n")},
	}
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }

// AppPartName is the GPT name of the app disk's partition, by which init
// finds it (the kernel gives it as PARTNAME in the partition's uevent).
const AppPartName = "keel-app"
