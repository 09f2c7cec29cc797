package disk

import (
	"bytes"
	"os"
)

// encoders write an image in each format.
var encoders = map[Format]func(*os.File, *image) error{
	Raw:  writeRaw,
	VMDK: writeVMDK,
	VDI:  writeVDI,
}

// chunk is the unit in which raw images skip zeros.
const chunk = 64 << 10

var zeroChunk = make([]byte, chunk)

// writeRaw writes the disk as is, leaving holes where it is zero: most of
// the ESP is free space, and a sparse file costs only what is used.
func writeRaw(f *os.File, img *image) error {
	for off := 0; off < len(img.data); off += chunk {
		b := img.data[off:min(off+chunk, len(img.data))]
		if bytes.Equal(b, zeroChunk[:len(b)]) {
			continue
		}
		if _, err := f.WriteAt(b, int64(off)); err != nil {
			return err
		}
	}
	return f.Truncate(int64(len(img.data)))
}
