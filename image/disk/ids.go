package disk

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/google/uuid"
)

// namespace is keel's UUID namespace for name-based (version 5) UUIDs of
// disk images; any fixed value would do, this one is random.
var namespace = uuid.MustParse("6f3b0a5e-2c0e-4d5f-9a43-1b7e8c2d9f10")

// ids are the identifiers an image carries. They derive from the hash of
// its inputs, so the same inputs give the same image, and different inputs
// different identifiers.
type ids struct {
	seed [sha256.Size]byte
}

// uuid returns the identifier of the image's part named what ("disk",
// "esp", "vdi-image", ...).
func (i ids) uuid(what string) uuid.UUID {
	return uuid.NewSHA1(namespace, append([]byte(what+"\x00"), i.seed[:]...))
}

// serial is the FAT volume serial number.
func (i ids) serial() uint32 {
	u := i.uuid("fat-serial")
	return binary.LittleEndian.Uint32(u[:4])
}

// guid returns u in the mixed-endian layout of Microsoft GUIDs (the first
// three fields little-endian), as VirtualBox stores UUIDs on disk.
func guid(u uuid.UUID) [16]byte {
	g := u
	g[0], g[1], g[2], g[3] = u[3], u[2], u[1], u[0]
	g[4], g[5] = u[5], u[4]
	g[6], g[7] = u[7], u[6]
	return g
}
