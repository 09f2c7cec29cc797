package initramfs

import (
	"fmt"
	"io"
	"strings"
)

// Mode type bits of cpio (and stat(2)).
const (
	sIFREG = 0o100000
	sIFDIR = 0o040000
	sIFLNK = 0o120000
	sIFCHR = 0o020000
)

// maxEntrySize is the largest entry a newc header can describe.
var maxEntrySize int64 = 1<<32 - 1 // a variable for tests

// newcWriter writes the "new ASCII" cpio format the kernel reads: a
// 110-byte header of hex fields, the NUL-terminated name, padding to 4
// bytes, the data, padding to 4 bytes.
type newcWriter struct{ w io.Writer }

// link writes a further name of a file with hard links: no content, the
// inode and link count of the first.
func (n newcWriter) link(ino, nlink uint32, e Entry) error {
	name := strings.TrimPrefix(e.Path, "/")
	return n.write(ino, e.Mode&0o7777|sIFREG, uint32(e.UID), uint32(e.GID), nlink, 0, 0, name, nil)
}

func (n newcWriter) entry(ino, nlink uint32, e Entry, data []byte) error {
	// Eight hex digits: a larger size would shift every later field and
	// give an archive the kernel cannot unpack.
	if int64(len(data)) > maxEntrySize {
		return fmt.Errorf("initramfs entry %s: %d bytes, over the cpio format's limit of 4 GiB", e.Path, len(data))
	}
	mode := e.Mode & 0o7777
	var devMajor, devMinor uint32
	switch e.Kind {
	case File:
		mode |= sIFREG
	case Dir:
		mode |= sIFDIR
		data = nil
	case Symlink:
		mode |= sIFLNK
	case CharDev:
		mode |= sIFCHR
		devMajor, devMinor = e.Major, e.Minor
		data = nil
	}
	if e.Kind == Dir {
		nlink = 2
	}
	name := strings.TrimPrefix(e.Path, "/")
	return n.write(ino, mode, uint32(e.UID), uint32(e.GID), nlink, devMajor, devMinor, name, data)
}

func (n newcWriter) write(ino, mode, uid, gid, nlink, rmaj, rmin uint32, name string, data []byte) error {
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, mode, uid, gid, nlink, 0, // mtime 0: reproducible
		len(data), 0, 0, // devmajor, devminor of the containing fs
		rmaj, rmin, len(name)+1, 0) // check
	if _, err := io.WriteString(n.w, hdr); err != nil {
		return err
	}
	if _, err := io.WriteString(n.w, name+"\x00"); err != nil {
		return err
	}
	if err := n.pad(len(hdr) + len(name) + 1); err != nil {
		return err
	}
	if _, err := n.w.Write(data); err != nil {
		return err
	}
	return n.pad(len(data))
}

func (n newcWriter) pad(size int) error {
	if r := size % 4; r != 0 {
		_, err := n.w.Write(make([]byte, 4-r))
		return err
	}
	return nil
}

func (n newcWriter) trailer() error {
	return n.write(0, 0, 0, 0, 1, 0, 0, "TRAILER!!!", nil)
}
