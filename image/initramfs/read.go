package initramfs

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/klauspost/compress/zstd"
)

var (
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
	gzipMagic = []byte{0x1f, 0x8b}
	newcMagic = []byte("070701")
)

// Read lists the entries of an initramfs in archive order: one newc
// archive or several concatenated, each zstd-compressed (as WriteTo writes
// them), gzip-compressed (as keel wrote them before) or not compressed,
// with zero bytes between them, as the kernel accepts them. File and
// symlink entries carry their Data.
func Read(r io.Reader) ([]Entry, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("initramfs: read: %w", err)
	}
	var out []Entry
	for off := 0; off < len(raw); {
		if raw[off] == 0 {
			off++ // padding between archives
			continue
		}
		rest := raw[off:]
		var (
			cpio []byte
			n    int
		)
		switch {
		case bytes.HasPrefix(rest, zstdMagic):
			cpio, n, err = unzstd(rest)
		case bytes.HasPrefix(rest, gzipMagic):
			cpio, n, err = gunzip(rest)
		case bytes.HasPrefix(rest, newcMagic):
			br := bytes.NewReader(rest)
			var es []Entry
			es, err = readCPIO(br)
			out = append(out, es...)
			n = len(rest) - br.Len()
		default:
			return out, fmt.Errorf("initramfs: at byte %d: neither a zstd, gzip nor newc cpio archive", off)
		}
		if err != nil {
			return out, fmt.Errorf("initramfs: archive at byte %d: %w", off, err)
		}
		for len(cpio) > 0 {
			if cpio[0] == 0 {
				cpio = cpio[1:]
				continue
			}
			br := bytes.NewReader(cpio)
			es, err := readCPIO(br)
			out = append(out, es...)
			if err != nil {
				return out, fmt.Errorf("initramfs: archive at byte %d: %w", off, err)
			}
			cpio = cpio[len(cpio)-br.Len():]
		}
		off += n
	}
	return out, nil
}

// gunzip decompresses the gzip member at the start of b and says how long
// it was.
func gunzip(b []byte) ([]byte, int, error) {
	// A bytes.Reader is an io.ByteReader: gzip reads no further than
	// its member.
	br := bytes.NewReader(b)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, 0, err
	}
	zr.Multistream(false)
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, 0, err
	}
	return data, len(b) - br.Len(), nil
}

// unzstd decompresses the zstd frame at the start of b and says how long
// it was.
func unzstd(b []byte) ([]byte, int, error) {
	n, err := zstdFrameLen(b)
	if err != nil {
		return nil, 0, err
	}
	// A frame may claim any size: past 2 GiB it is refused, not
	// allocated (no VM keel runs holds such an initramfs).
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(2<<30))
	if err != nil {
		return nil, 0, err
	}
	defer d.Close()
	data, err := d.DecodeAll(b[:n], nil)
	return data, n, err
}

// zstdFrameLen walks the zstd frame at the start of b (RFC 8878, section
// 3.1.1) to its end: the decoder reads past a frame, and another archive
// may follow it.
func zstdFrameLen(b []byte) (int, error) {
	errShort := errors.New("zstd frame cut short")
	if len(b) < 5 {
		return 0, errShort
	}
	desc := b[4]
	single := desc&0x20 != 0
	n := 5
	if !single {
		n++ // window descriptor
	}
	n += []int{0, 1, 2, 4}[desc&0x03] // dictionary id
	fcs := []int{0, 2, 4, 8}[desc>>6]
	if fcs == 0 && single {
		fcs = 1
	}
	n += fcs
	for {
		if len(b) < n+3 {
			return 0, errShort
		}
		h := uint32(b[n]) | uint32(b[n+1])<<8 | uint32(b[n+2])<<16
		n += 3
		last, kind, size := h&1 != 0, (h>>1)&3, int(h>>3)
		switch kind {
		case 1: // RLE: one byte, repeated size times
			n++
		case 3:
			return 0, errors.New("zstd frame has a reserved block type")
		default:
			n += size
		}
		if last {
			break
		}
	}
	if desc&0x04 != 0 {
		n += 4 // content checksum
	}
	if len(b) < n {
		return 0, errShort
	}
	return n, nil
}

func readCPIO(r io.Reader) ([]Entry, error) {
	var out []Entry
	// Files with hard links: the first name of each inode, whose content
	// the later names share (Link names it).
	firsts := map[uint32]int{}
	var off int64
	skip := func(n int64) error {
		_, err := io.CopyN(io.Discard, r, n)
		off += n
		return err
	}
	for {
		var hdr [110]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return out, fmt.Errorf("initramfs: read header at %d: %w", off, err)
		}
		off += 110
		if string(hdr[:6]) != "070701" {
			return out, fmt.Errorf("initramfs: bad magic %q at %d", hdr[:6], off-110)
		}
		field := func(i int) (uint32, error) {
			v, err := strconv.ParseUint(string(hdr[6+8*i:14+8*i]), 16, 32)
			return uint32(v), err
		}
		var f [13]uint32
		for i := range f {
			v, err := field(i)
			if err != nil {
				return out, fmt.Errorf("initramfs: bad header field %d at %d", i, off-110)
			}
			f[i] = v
		}
		ino, mode, uid, gid, nlink, size, rmaj, rmin, nameLen := f[0], f[1], f[2], f[3], f[4], f[6], f[9], f[10], f[11]
		name := make([]byte, nameLen)
		if _, err := io.ReadFull(r, name); err != nil {
			return out, fmt.Errorf("initramfs: read name at %d: %w", off, err)
		}
		off += int64(nameLen)
		if err := skip((4 - off%4) % 4); err != nil {
			return out, err
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(r, data); err != nil {
			return out, fmt.Errorf("initramfs: read data at %d: %w", off, err)
		}
		off += int64(size)
		if err := skip((4 - off%4) % 4); err != nil {
			return out, err
		}
		n := string(name[:max(0, int(nameLen)-1)])
		if n == "TRAILER!!!" {
			return out, nil
		}
		e := Entry{Path: "/" + n, Mode: mode & 0o7777, UID: int(uid), GID: int(gid)}
		switch mode & 0o170000 {
		case sIFREG:
			e.Kind, e.Data = File, data
			if nlink > 1 {
				if i, ok := firsts[ino]; ok {
					e.Link = out[i].Path
					if len(data) == 0 {
						e.Data = out[i].Data
					}
				} else {
					firsts[ino] = len(out)
				}
			}
		case sIFDIR:
			e.Kind = Dir
		case sIFLNK:
			e.Kind, e.Data = Symlink, data
		case sIFCHR:
			e.Kind, e.Major, e.Minor = CharDev, rmaj, rmin
		default:
			return out, fmt.Errorf("initramfs: %s has unsupported mode %o", n, mode)
		}
		out = append(out, e)
	}
}
