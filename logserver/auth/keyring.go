package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keelvm/keel/internal/fsutil"
)

// Files in the data directory.
const (
	KeysFileName        = "keys.json"
	CredentialsFileName = "credentials"
	lockFileName        = "keys.lock"
	adminKeyName        = "admin"
)

// ErrKeyNotFound is returned by Delete for an id the keyring does not hold.
var ErrKeyNotFound = errors.New("no such access key")

// Keyring holds the server's access keys, backed by DATA/keys.json. It is
// safe for concurrent use, and several Keyrings (in this process or others)
// may share one data directory: changes are serialized by an flock and each
// Keyring picks up the others' changes by itself.
type Keyring struct {
	path     string // DATA/keys.json
	lockPath string // DATA/keys.lock

	snap atomic.Pointer[keySnapshot] // what Lookup reads, without locking
	mu   sync.Mutex                  // serializes reloads and snapshot swaps
}

type keySnapshot struct {
	byID  map[string]Key
	stamp fileStamp // the keys.json these keys came from
	bad   fileStamp // a later keys.json that failed to load; not retried
}

// OpenKeyring opens the keyring in dataDir, creating the directory if needed.
// If dataDir has no keys.json yet, it makes an admin key named "admin", writes
// it to DATA/credentials as the [default] profile of an AWS shared-credentials
// file, and reports created. If keys.json exists, DATA/credentials is left as
// it is, even if missing: the keys it would hold are in keys.json.
func OpenKeyring(dataDir string) (*Keyring, bool, error) {
	if dataDir == "" {
		return nil, false, errors.New("open keyring: no data directory given")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("open keyring: %w", err)
	}
	k := &Keyring{
		path:     filepath.Join(dataDir, KeysFileName),
		lockPath: filepath.Join(dataDir, lockFileName),
	}
	unlock, err := lockFile(k.lockPath)
	if err != nil {
		return nil, false, fmt.Errorf("open keyring: %w", err)
	}
	defer unlock()

	created := false
	if _, err := os.Lstat(k.path); errors.Is(err, fs.ErrNotExist) {
		if err := k.createAdmin(filepath.Join(dataDir, CredentialsFileName)); err != nil {
			return nil, false, fmt.Errorf("open keyring: %w", err)
		}
		created = true
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.loadLocked(); err != nil {
		return nil, false, err
	}
	return k, created, nil
}

// createAdmin writes the credentials file before keys.json: a crash in
// between leaves no keys.json, so the next open starts over and overwrites the
// credentials, instead of leaving an admin key nobody was told about.
func (k *Keyring) createAdmin(credentialsPath string) error {
	admin := Key{ID: newKeyID(), Secret: newSecret(), Name: adminKeyName, Created: now()}
	if err := WriteCredentialsFile(credentialsPath, admin, "default"); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(k.path, encodeKeysFile([]Key{admin}), 0o600)
}

// Create makes a new key named name, limited to scope (nil for full access),
// and stores it. Names are unique within the keyring. The scope is copied,
// with DefaultActions filled in when it names no action.
func (k *Keyring) Create(name string, scope *Scope) (Key, error) {
	if err := checkKeyName(name); err != nil {
		return Key{}, fmt.Errorf("create key: %w", err)
	}
	sc, err := normalizedScope(scope)
	if err != nil {
		return Key{}, fmt.Errorf("create key %q: %w", name, err)
	}
	var key Key
	err = k.update(func(keys []Key) ([]Key, error) {
		ids := make(map[string]bool, len(keys))
		for _, old := range keys {
			if old.Name == name {
				return nil, fmt.Errorf("a key named %q already exists (%s)", name, old.ID)
			}
			ids[old.ID] = true
		}
		key = Key{ID: newKeyID(), Secret: newSecret(), Name: name, Created: now(), Scope: sc}
		for ids[key.ID] {
			key.ID = newKeyID()
		}
		return append(keys, key), nil
	})
	if err != nil {
		return Key{}, fmt.Errorf("create key %q: %w", name, err)
	}
	return key, nil
}

// Delete removes the key with the given id. Every Keyring on the same data
// directory, in any process, refuses it from its next Lookup on.
func (k *Keyring) Delete(id string) error {
	err := k.update(func(keys []Key) ([]Key, error) {
		i := slices.IndexFunc(keys, func(key Key) bool { return key.ID == id })
		if i < 0 {
			return nil, ErrKeyNotFound
		}
		return slices.Delete(keys, i, i+1), nil
	})
	if err != nil {
		return fmt.Errorf("delete key %s: %w", id, err)
	}
	return nil
}

// update is the read-modify-write of keys.json, under the flock so that
// concurrent writers in any process never lose each other's changes. It
// reads the file afresh rather than trusting this Keyring's snapshot, which
// another writer may have overtaken an instant ago.
func (k *Keyring) update(change func([]Key) ([]Key, error)) error {
	unlock, err := lockFile(k.lockPath)
	if err != nil {
		return err
	}
	defer unlock()
	keys, _, err := readKeysFile(k.path)
	if err != nil {
		return err
	}
	if keys, err = change(keys); err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(k.path, encodeKeysFile(keys), 0o600); err != nil {
		return err
	}
	// Reload while still holding the flock, so the snapshot is exactly what
	// was written and never older than what a concurrent refresh installed.
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.loadLocked()
}

// List returns all keys, oldest first, as of keys.json now.
func (k *Keyring) List() []Key {
	k.refresh()
	s := k.snap.Load()
	out := make([]Key, 0, len(s.byID))
	for _, key := range s.byID {
		if key.Scope != nil {
			sc := *key.Scope
			sc.Actions = slices.Clone(sc.Actions)
			key.Scope = &sc
		}
		out = append(out, key)
	}
	slices.SortFunc(out, compareKeys)
	return out
}

// Lookup returns the key with the given access key id, as keys.json has it
// now: each call stats the file (one stat(2), 1-2µs in a VM and less on bare
// metal) and reloads it if another process replaced it, so a key created by
// `keel logserver key create` works on its first request and a deleted one is
// refused on the very next. Checking only once a second would save that stat
// but leave a revoked key usable for up to a second.
func (k *Keyring) Lookup(id string) (Key, bool) {
	if fi, err := os.Stat(k.path); err == nil {
		if st, s := stampOf(fi), k.snap.Load(); st != s.stamp && st != s.bad {
			k.refresh()
		}
	}
	key, ok := k.snap.Load().byID[id]
	return key, ok
}

// refresh reloads keys.json if it changed since the snapshot was taken. A
// file that is missing or cannot be read keeps the last good keys in
// service: the server keeps working while someone repairs it, and the next
// OpenKeyring reports the problem.
func (k *Keyring) refresh() {
	k.mu.Lock()
	defer k.mu.Unlock()
	fi, err := os.Stat(k.path)
	if err != nil {
		return
	}
	st, cur := stampOf(fi), k.snap.Load()
	if st == cur.stamp || st == cur.bad {
		return // another goroutine reloaded while this one waited
	}
	if err := k.loadLocked(); err != nil {
		k.snap.Store(&keySnapshot{byID: cur.byID, stamp: cur.stamp, bad: st})
	}
}

// loadLocked reads keys.json into a new snapshot. k.mu must be held.
func (k *Keyring) loadLocked() error {
	keys, st, err := readKeysFile(k.path)
	if err != nil {
		return err
	}
	byID := make(map[string]Key, len(keys))
	for _, key := range keys {
		byID[key.ID] = key
	}
	k.snap.Store(&keySnapshot{byID: byID, stamp: st})
	return nil
}

// now is the creation time stamped on new keys, to the millisecond so that
// keys.json stays readable.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// Admin returns the oldest key with full access, as created on first start.
func (k *Keyring) Admin() (Key, bool) {
	for _, key := range k.List() {
		if key.Scope == nil {
			return key, true
		}
	}
	return Key{}, false
}
