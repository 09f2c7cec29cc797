package initramfs

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"strconv"
)

// Read lists the entries of a gzip-compressed newc archive, or of several
// concatenated (as the kernel accepts them), in archive order. File and
// symlink entries carry their Data.
func Read(r io.Reader) ([]Entry, error) {
	br := bufio.NewReader(r)
	var out []Entry
	for {
		if _, err := br.Peek(1); err == io.EOF {
			return out, nil
		}
		zr, err := gzip.NewReader(br)
		if err != nil {
			return out, fmt.Errorf("initramfs: read: %w", err)
		}
		// One gzip member at a time: the next archive may follow.
		zr.Multistream(false)
		es, err := readCPIO(bufio.NewReader(zr))
		if err != nil {
			return out, err
		}
		out = append(out, es...)
		if _, err := io.Copy(io.Discard, zr); err != nil {
			return out, fmt.Errorf("initramfs: read: %w", err)
		}
	}
}

func readCPIO(r *bufio.Reader) ([]Entry, error) {
	var out []Entry
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
		mode, uid, gid, size, rmaj, rmin, nameLen := f[1], f[2], f[3], f[6], f[9], f[10], f[11]
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
