package disk

import (
	"encoding/binary"
	"errors"
)

// finishFAT completes the FAT32 file system go-diskfs wrote in esp, so
// that fsck.fat finds nothing to say about it:
//   - the volume serial number (go-diskfs writes 0 in reproducible mode),
//   - the hidden-sector count, which is the partition's first LBA,
//   - ".." in directories whose parent is the root, which the FAT spec
//     says must hold cluster 0 (go-diskfs writes the root's cluster),
//   - the FSInfo free-cluster count and next-free hint (go-diskfs leaves
//     them unknown, so the first mount would have to scan the FAT).
//
// Each is done in the boot sector and its backup, or FSInfo and its
// backup.
func finishFAT(esp []byte, firstLBA, serial uint32) error {
	le := binary.LittleEndian
	if len(esp) < sectorSize || string(esp[0x52:0x5a]) != "FAT32   " {
		return errors.New("no FAT32 boot sector")
	}
	bps := int(le.Uint16(esp[0x0b:]))
	spc := int(esp[0x0d])
	reserved := int(le.Uint16(esp[0x0e:]))
	fats := int(esp[0x10])
	total := int(le.Uint32(esp[0x20:]))
	spf := int(le.Uint32(esp[0x24:]))
	root := le.Uint32(esp[0x2c:])
	fsinfo := int(le.Uint16(esp[0x30:]))
	backup := int(le.Uint16(esp[0x32:]))
	if bps != sectorSize || spc == 0 || total*bps != len(esp) || backup == 0 || fsinfo == 0 {
		return errors.New("unexpected FAT32 geometry")
	}
	for _, s := range []int{0, backup} {
		b := esp[s*bps:]
		le.PutUint32(b[0x1c:], firstLBA)
		le.PutUint32(b[0x43:], serial)
	}

	fat := esp[reserved*bps : (reserved+spf)*bps]
	clusterBytes := spc * bps
	dataStart := (reserved + fats*spf) * bps
	clusters := (total - reserved - fats*spf) / spc
	next := func(c uint32) uint32 { return le.Uint32(fat[4*c:]) & 0x0fffffff }
	cluster := func(c uint32) []byte {
		off := dataStart + int(c-2)*clusterBytes
		return esp[off : off+clusterBytes]
	}
	// Walk the root directory's entries for its subdirectories.
	for c, n := root, 0; c >= 2 && c < 0x0ffffff8; c, n = next(c), n+1 {
		if n > clusters {
			return errors.New("root directory: cluster chain loops")
		}
		dir := cluster(c)
		for e := 0; e < len(dir); e += 32 {
			ent := dir[e : e+32]
			if ent[0] == 0 {
				break // end of directory
			}
			const attrDir, attrLFN = 0x10, 0x0f
			if ent[0] == 0xe5 || ent[11] == attrLFN || ent[11]&attrDir == 0 || ent[0] == '.' {
				continue
			}
			sub := uint32(le.Uint16(ent[20:]))<<16 | uint32(le.Uint16(ent[26:]))
			if sub < 2 || int(sub) >= clusters+2 {
				return errors.New("root directory: subdirectory outside the volume")
			}
			dotdot := cluster(sub)[32:64]
			if string(dotdot[:11]) == "..         " && uint32(le.Uint16(dotdot[20:]))<<16|uint32(le.Uint16(dotdot[26:])) == root {
				le.PutUint16(dotdot[20:], 0)
				le.PutUint16(dotdot[26:], 0)
			}
		}
	}

	free, firstFree := uint32(0), uint32(0xffffffff)
	for c := uint32(2); c < uint32(clusters)+2; c++ {
		if next(c) == 0 {
			free++
			firstFree = min(firstFree, c)
		}
	}
	for _, s := range []int{fsinfo, backup + fsinfo} {
		b := esp[s*bps:]
		if le.Uint32(b[0:]) != 0x41615252 { // "RRaA"
			return errors.New("no FSInfo sector")
		}
		le.PutUint32(b[488:], free)
		le.PutUint32(b[492:], firstFree)
	}
	return nil
}
