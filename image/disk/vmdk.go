package disk

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
)

// VMDK streamOptimized, the variant VMware's spec (Virtual Disk Format
// 5.0) defines for streaming and the one AWS VM Import and OVA packages
// take: a sparse extent header, the embedded descriptor, then each
// non-zero 64 KiB grain deflated behind a grain marker, then the grain
// tables and directory behind their markers, a footer (the header again,
// now with the directory's offset) and an end-of-stream marker. Everything
// is written in one pass.
const (
	vmdkMagic      = 0x564d444b // "KDMV"
	vmdkGrain      = 128        // sectors: 64 KiB
	vmdkGTEs       = 512        // entries per grain table
	vmdkGDAtEnd    = ^uint64(0) // gdOffset in the header: see the footer
	vmdkCompressed = 1 << 16
	vmdkMarkers    = 1 << 17
	vmdkNewline    = 1 << 0 // the newline-detection characters are valid
	vmdkDeflate    = 1

	markerEOS    = 0
	markerGT     = 1
	markerGD     = 2
	markerFooter = 3
)

// vmdkHeader is the SparseExtentHeader after the magic, little-endian.
type vmdkHeader struct {
	Version          uint32
	Flags            uint32
	Capacity         uint64 // sectors
	GrainSize        uint64 // sectors
	DescriptorOffset uint64 // sectors
	DescriptorSize   uint64 // sectors
	NumGTEsPerGT     uint32
	RGDOffset        uint64
	GDOffset         uint64
	OverHead         uint64 // sectors before the first grain
	UncleanShutdown  uint8
	// "\n", " ", "\r\n": a file damaged by a text-mode transfer shows.
	SingleEndLineChar, NonEndLineChar, DoubleEndLineChar1, DoubleEndLineChar2 uint8
	CompressAlgorithm                                                         uint16
}

func writeVMDK(f *os.File, img *image) error {
	capacity := uint64(len(img.data) / sectorSize)
	grains := int(capacity / vmdkGrain) // build makes it a whole number
	tables := (grains + vmdkGTEs - 1) / vmdkGTEs
	desc := vmdkDescriptor(img, capacity)
	descSectors := uint64(roundUp(int64(len(desc)), sectorSize) / sectorSize)
	h := vmdkHeader{
		Version: 3, Flags: vmdkNewline | vmdkCompressed | vmdkMarkers,
		Capacity: capacity, GrainSize: vmdkGrain,
		DescriptorOffset: 1, DescriptorSize: descSectors,
		NumGTEsPerGT: vmdkGTEs, GDOffset: vmdkGDAtEnd, OverHead: 1 + descSectors,
		SingleEndLineChar: '\n', NonEndLineChar: ' ', DoubleEndLineChar1: '\r', DoubleEndLineChar2: '\n',
		CompressAlgorithm: vmdkDeflate,
	}
	w := &sectorWriter{w: bufio.NewWriterSize(f, 1<<20)}
	w.write(vmdkHeaderSector(h))
	w.write(desc)
	w.pad()

	gt := make([]uint32, tables*vmdkGTEs) // grain → sector of its marker; 0: zeros
	var zbuf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&zbuf, zlib.DefaultCompression)
	for g := range grains {
		data := img.data[g*vmdkGrain*sectorSize : (g+1)*vmdkGrain*sectorSize]
		if isZero(data) {
			continue
		}
		zbuf.Reset()
		zw.Reset(&zbuf)
		zw.Write(data)
		if err := zw.Close(); err != nil {
			return fmt.Errorf("compress grain %d: %w", g, err)
		}
		gt[g] = uint32(w.sector())
		var m [12]byte
		binary.LittleEndian.PutUint64(m[0:], uint64(g*vmdkGrain)) // LBA of the grain
		binary.LittleEndian.PutUint32(m[8:], uint32(zbuf.Len()))
		w.write(m[:])
		w.write(zbuf.Bytes())
		w.pad()
	}
	gd := make([]uint32, tables)
	for t := range tables {
		w.marker(vmdkGTEs*4/sectorSize, markerGT)
		gd[t] = uint32(w.sector())
		w.write(le32s(gt[t*vmdkGTEs : (t+1)*vmdkGTEs]))
	}
	gdBytes := le32s(gd)
	w.marker(uint64(roundUp(int64(len(gdBytes)), sectorSize)/sectorSize), markerGD)
	h.GDOffset = w.sector()
	w.write(gdBytes)
	w.pad()
	w.marker(1, markerFooter)
	w.write(vmdkHeaderSector(h))
	w.marker(0, markerEOS)
	if w.err != nil {
		return w.err
	}
	return w.w.Flush()
}

func vmdkHeaderSector(h vmdkHeader) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint32(vmdkMagic))
	binary.Write(&b, binary.LittleEndian, &h)
	b.Write(make([]byte, sectorSize-b.Len()))
	return b.Bytes()
}

// vmdkDescriptor is the embedded descriptor. CID is a content identifier
// (derived from the inputs here); the extent names the file itself, so
// the same image written under another name differs in this line.
func vmdkDescriptor(img *image, capacity uint64) []byte {
	// Geometry for the IDE adapter as VMware computes it: 16 heads, 63
	// sectors per track.
	cylinders := min(capacity/(16*63), 16383)
	cid := img.ids.uuid("vmdk-cid")
	return fmt.Appendf(nil, `# Disk DescriptorFile
version=1
CID=%08x
parentCID=ffffffff
createType="streamOptimized"

# Extent description
RW %d SPARSE "%s"

# The Disk Data Base
#DDB

ddb.virtualHWVersion = "4"
ddb.adapterType = "ide"
ddb.geometry.cylinders = "%d"
ddb.geometry.heads = "16"
ddb.geometry.sectors = "63"
ddb.uuid.image = "%s"
`, binary.BigEndian.Uint32(cid[:4]), capacity, strings.ReplaceAll(img.name, `"`, "_"), cylinders, img.ids.uuid("vmdk-image"))
}

// sectorWriter writes a stream of sectors, keeping the first error.
type sectorWriter struct {
	w   *bufio.Writer
	n   int64
	err error
}

func (s *sectorWriter) write(b []byte) {
	if s.err != nil {
		return
	}
	var n int
	n, s.err = s.w.Write(b)
	s.n += int64(n)
}

// pad fills the current sector with zeros.
func (s *sectorWriter) pad() {
	if r := s.n % sectorSize; r != 0 {
		s.write(make([]byte, sectorSize-r))
	}
}

func (s *sectorWriter) sector() uint64 { return uint64(s.n / sectorSize) }

// marker writes a metadata marker: a sector holding the size (in sectors)
// of what follows and its type.
func (s *sectorWriter) marker(sectors uint64, typ uint32) {
	m := make([]byte, sectorSize)
	binary.LittleEndian.PutUint64(m[0:], sectors)
	binary.LittleEndian.PutUint32(m[12:], typ)
	s.write(m)
}

func le32s(v []uint32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], x)
	}
	return b
}
