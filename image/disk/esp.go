package disk

import (
	"fmt"
	"os"
	"path"
	"strconv"
	"sync"
	"time"

	"github.com/diskfs/go-diskfs/filesystem/fat32"
)

// espFile is a file on the EFI system partition.
type espFile struct {
	path string // absolute, '/'-separated
	data []byte
}

// fatTime is the timestamp of every FAT directory entry: the FAT epoch, so
// the bytes do not depend on when the image was written.
var fatTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// epochMu serialises the ESP writes that set SOURCE_DATE_EPOCH (below).
var epochMu sync.Mutex

// writeESP creates a FAT32 file system of size bytes at offset start of d
// holding files. go-diskfs stamps directory entries with
// $SOURCE_DATE_EPOCH or else the current time, and offers no other way to
// fix them, so the variable is set for the duration (and restored): keel
// itself reads it nowhere else.
func writeESP(d *memDisk, start, size int64, files []espFile, serial uint32) error {
	epochMu.Lock()
	defer epochMu.Unlock()
	old, had := os.LookupEnv("SOURCE_DATE_EPOCH")
	os.Setenv("SOURCE_DATE_EPOCH", strconv.FormatInt(fatTime.Unix(), 10))
	defer func() {
		if had {
			os.Setenv("SOURCE_DATE_EPOCH", old)
		} else {
			os.Unsetenv("SOURCE_DATE_EPOCH")
		}
	}()
	fs, err := fat32.Create(d, size, start, sectorSize, "KEEL-ESP", true)
	if err != nil {
		return fmt.Errorf("create FAT32: %w", err)
	}
	for _, f := range files {
		if dir := path.Dir(f.path); dir != "/" {
			if err := fs.Mkdir(dir); err != nil {
				return fmt.Errorf("mkdir %s: %w", dir, err)
			}
		}
		w, err := fs.OpenFile(f.path, os.O_CREATE|os.O_RDWR)
		if err != nil {
			return fmt.Errorf("create %s: %w", f.path, err)
		}
		// One write: go-diskfs allocates the file's clusters per call.
		if _, err := w.Write(f.data); err != nil {
			return fmt.Errorf("write %s: %w", f.path, err)
		}
		if err := w.Close(); err != nil {
			return fmt.Errorf("write %s: %w", f.path, err)
		}
	}
	esp := d.b[start : start+size]
	if err := finishFAT(esp, uint32(start/sectorSize), serial); err != nil {
		return fmt.Errorf("finish FAT32: %w", err)
	}
	return nil
}
