package disk

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
)

// VDI 1.1, VirtualBox's native format, as VirtualBox writes a dynamic
// image: a 512-byte header, the block map, then the allocated 1 MiB blocks
// in disk order. A block that is all zeros is left unallocated.
const (
	vdiSignature = 0xbeda107f
	vdiVersion   = 0x00010001 // 1.1
	vdiHeaderLen = 0x190      // of the 1.1 header, counted after the version
	vdiDynamic   = 1          // image type: blocks allocated as written
	vdiBlockSize = mib
	vdiFree      = 0xffffffff // block map entry of an unallocated block
	// vdiDataAlign is where VirtualBox starts the data area: on a MiB.
	vdiDataAlign = mib
)

// vdiHeader is the 1.1 header after the 64-byte text, little-endian,
// with VirtualBox's field names.
type vdiHeader struct {
	Signature, Version, HeaderSize, ImageType, ImageFlags uint32
	Comment                                               [256]byte
	OffBlocks, OffData                                    uint32
	LegacyCylinders, LegacyHeads, LegacySectors           uint32
	LegacySectorSize                                      uint32
	Dummy                                                 uint32
	DiskSize                                              uint64
	BlockSize, BlockExtra, Blocks, BlocksAllocated        uint32
	UUIDCreate, UUIDModify, UUIDLinkage, UUIDParentModify [16]byte
	// Geometry as the guest's BIOS sees it; zero cylinders, heads and
	// sectors let VirtualBox choose.
	LCHSCylinders, LCHSHeads, LCHSSectors, LCHSSectorSize uint32
}

func writeVDI(f *os.File, img *image) error {
	blocks := len(img.data) / vdiBlockSize // build makes it a whole number
	bmap := make([]uint32, blocks)
	var allocated uint32
	for i := range bmap {
		if isZero(img.data[i*vdiBlockSize : (i+1)*vdiBlockSize]) {
			bmap[i] = vdiFree
			continue
		}
		bmap[i] = allocated
		allocated++
	}
	offBlocks := uint32(sectorSize)
	offData := uint32(roundUp(int64(offBlocks)+4*int64(blocks), vdiDataAlign))
	h := vdiHeader{
		Signature: vdiSignature, Version: vdiVersion, HeaderSize: vdiHeaderLen, ImageType: vdiDynamic,
		OffBlocks: offBlocks, OffData: offData,
		// VirtualBox rejects an image whose sector sizes are not 512.
		LegacySectorSize: sectorSize, LCHSSectorSize: sectorSize,
		DiskSize: uint64(len(img.data)), BlockSize: vdiBlockSize,
		Blocks: uint32(blocks), BlocksAllocated: allocated,
		UUIDCreate: guid(img.ids.uuid("vdi-create")), UUIDModify: guid(img.ids.uuid("vdi-modify")),
	}
	var head bytes.Buffer
	head.WriteString("<<< Oracle VM VirtualBox Disk Image >>>\n")
	head.Write(make([]byte, 64-head.Len()))
	binary.Write(&head, binary.LittleEndian, &h)
	head.Write(make([]byte, int(offBlocks)-head.Len()))
	binary.Write(&head, binary.LittleEndian, bmap)
	head.Write(make([]byte, int(offData)-head.Len()))
	w := io.Writer(f)
	if _, err := w.Write(head.Bytes()); err != nil {
		return err
	}
	for i, b := range bmap {
		if b == vdiFree {
			continue
		}
		if _, err := w.Write(img.data[i*vdiBlockSize : (i+1)*vdiBlockSize]); err != nil {
			return err
		}
	}
	return nil
}

func isZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeroChunk))
		if !bytes.Equal(b[:n], zeroChunk[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}
