package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
)

// keysFileVersion is written to keys.json so that a later format change can
// be recognized instead of misread.
const keysFileVersion = 1

type keysFile struct {
	Version int   `json:"version"`
	Keys    []Key `json:"keys"`
}

// fileStamp identifies one version of keys.json. Writers replace the file by
// rename, so a new version is a new inode even when size and mtime happen to
// match the old one. The mode is part of it because readKeysFile refuses a
// file others can read: the chmod 600 that repairs it changes nothing else,
// and without the mode the repaired file would never be reloaded.
type fileStamp struct {
	ino   uint64
	size  int64
	mtime int64
	mode  os.FileMode
}

func stampOf(fi os.FileInfo) fileStamp {
	s := fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano(), mode: fi.Mode()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino = uint64(st.Ino)
	}
	return s
}

// readKeysFile reads and checks keys.json. The stamp comes from the open file,
// so it matches the bytes read even if the file is replaced meanwhile.
func readKeysFile(path string) ([]Key, fileStamp, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("read keyring: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("read keyring: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fileStamp{}, fmt.Errorf("read keyring %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fileStamp{}, fmt.Errorf("read keyring %s: mode %04o lets other users read the secret keys; "+
			"restrict it with: chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("read keyring: %w", err)
	}
	keys, err := parseKeysFile(data)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("read keyring %s: %w; repair the file, or move it away "+
			"to start over with a new admin key (every existing key is then lost)", path, err)
	}
	return keys, stampOf(fi), nil
}

func parseKeysFile(data []byte) ([]Key, error) {
	var kf keysFile
	if err := json.Unmarshal(data, &kf); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			line := 1 + bytes.Count(data[:min(int(syn.Offset), len(data))], []byte("\n"))
			return nil, fmt.Errorf("invalid JSON at line %d: %v", line, err)
		}
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if kf.Version != keysFileVersion {
		return nil, fmt.Errorf("format version %d, but this keel reads version %d", kf.Version, keysFileVersion)
	}
	seen := make(map[string]bool, len(kf.Keys))
	for i, k := range kf.Keys {
		switch {
		case k.ID == "" || k.Secret == "":
			return nil, fmt.Errorf("key #%d (%q) has no id or no secret", i+1, k.Name)
		case seen[k.ID]:
			return nil, fmt.Errorf("key id %s appears twice", k.ID)
		case k.Token != "" && (k.Policy == nil || k.Expires.IsZero()):
			// Without its policy a session would have the admin's rights.
			return nil, fmt.Errorf("key %s has a session token but no policy or no expiry", k.ID)
		case k.Token == "" && k.Policy != nil:
			return nil, fmt.Errorf("key %s has a policy but no session token: only session credentials carry a policy", k.ID)
		case k.Scope != nil && k.Scope.Group == "":
			return nil, fmt.Errorf("key %s has a scope without a group; remove the scope for full access", k.ID)
		}
		seen[k.ID] = true
	}
	return kf.Keys, nil
}

func encodeKeysFile(keys []Key) []byte {
	sorted := append([]Key{}, keys...) // never nil: an empty keyring is "keys": []
	slices.SortFunc(sorted, compareKeys)
	data, err := json.MarshalIndent(keysFile{Version: keysFileVersion, Keys: sorted}, "", "  ")
	if err != nil {
		panic("auth: encode keys.json: " + err.Error()) // only plain strings and times: cannot fail
	}
	return append(data, '\n')
}

// compareKeys orders keys oldest first, as List returns them.
func compareKeys(a, b Key) int {
	if c := a.Created.Compare(b.Created); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}
