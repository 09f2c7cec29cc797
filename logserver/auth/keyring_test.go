package auth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/keelvm/keel/internal/fsutil"
)

// parseINI reads an AWS shared-credentials file the simple way: sections of
// key = value lines.
func parseINI(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string]string{}
	var section map[string]string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = map[string]string{}
			out[line[1:len(line)-1]] = section
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == nil {
				t.Fatalf("%s:%d: not a key = value line in a section: %q", path, n, line)
			}
			section[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %04o, want %04o", path, got, want)
	}
}

var (
	keyIDPattern  = regexp.MustCompile(`^KEEL[A-Z0-9]{16}$`)
	secretPattern = regexp.MustCompile(`^[A-Za-z0-9/+]{40}$`)
)

func TestOpenKeyringCreatesAdmin(t *testing.T) {
	_, admin, dir := openTestKeyring(t)
	if admin.Name != "admin" || admin.Scope != nil || admin.Created.IsZero() {
		t.Errorf("admin key = %+v, want name admin, no scope, a creation time", admin)
	}
	if !keyIDPattern.MatchString(admin.ID) || !secretPattern.MatchString(admin.Secret) {
		t.Errorf("admin id %q / secret %q do not look like AWS keys", admin.ID, admin.Secret)
	}
	checkMode(t, filepath.Join(dir, KeysFileName), 0o600)
	credPath := filepath.Join(dir, CredentialsFileName)
	checkMode(t, credPath, 0o600)

	ini := parseINI(t, credPath)
	want := map[string]map[string]string{"default": {"aws_access_key_id": admin.ID, "aws_secret_access_key": admin.Secret}}
	if fmt.Sprint(ini) != fmt.Sprint(want) {
		t.Errorf("credentials file = %v, want %v", ini, want)
	}
	// The SDK's own loader, as AWS_SHARED_CREDENTIALS_FILE makes it read the file.
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithSharedCredentialsFiles([]string{credPath}), config.WithSharedConfigFiles([]string{}),
		config.WithSharedConfigProfile("default"), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessKeyID != admin.ID || got.SecretAccessKey != admin.Secret {
		t.Errorf("SDK read %s / %s from %s, want the admin key", got.AccessKeyID, got.SecretAccessKey, credPath)
	}

	// Reopening finds the keyring; a deleted credentials file stays deleted.
	if err := os.Remove(credPath); err != nil {
		t.Fatal(err)
	}
	k2, created, err := OpenKeyring(dir)
	if err != nil || created {
		t.Fatalf("reopen: created=%v err=%v", created, err)
	}
	if _, err := os.Stat(credPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reopen recreated %s (err %v)", credPath, err)
	}
	if got, ok := k2.Lookup(admin.ID); !ok || got != admin {
		t.Errorf("reopened keyring: Lookup(admin) = %+v, %v", got, ok)
	}
}

// TestKeyringSharedAcrossProcesses plays the server and the CLI: two
// Keyrings on one directory, changes by one seen by the other without reopening.
func TestKeyringSharedAcrossProcesses(t *testing.T) {
	server, admin, dir := openTestKeyring(t)
	cli, created, err := OpenKeyring(dir)
	if err != nil || created {
		t.Fatalf("second open: created=%v err=%v", created, err)
	}
	if _, ok := server.Lookup(admin.ID); !ok {
		t.Fatal("admin key unknown")
	}
	scope := &Scope{Group: "vm/web", StreamPrefix: "web-"}
	ci, err := cli.Create("ci", scope)
	if err != nil {
		t.Fatal(err)
	}
	if !keyIDPattern.MatchString(ci.ID) || !secretPattern.MatchString(ci.Secret) || ci.ID == admin.ID {
		t.Errorf("new key %q / %q", ci.ID, ci.Secret)
	}
	got, ok := server.Lookup(ci.ID)
	if !ok {
		t.Fatal("server does not see the key the CLI created")
	}
	if got.Name != "ci" || got.Scope == nil || got.Scope.Group != "vm/web" || got.Scope.StreamPrefix != "web-" ||
		strings.Join(got.Scope.Actions, ",") != "CreateLogStream,PutLogEvents" {
		t.Errorf("server sees %+v (scope %+v)", got, got.Scope)
	}
	if l := server.List(); len(l) != 2 || l[0].ID != admin.ID || l[1].ID != ci.ID {
		t.Errorf("List = %v, want admin then ci", l)
	}
	if err := cli.Delete(ci.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := server.Lookup(ci.ID); ok {
		t.Error("server still accepts the key the CLI deleted")
	}
	if _, ok := server.Lookup(admin.ID); !ok {
		t.Error("admin key lost after deleting another")
	}
	// The server's own change is visible to the CLI too.
	ops, err := server.Create("ops", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cli.Lookup(ops.ID); !ok {
		t.Error("CLI does not see the key the server created")
	}
}

// TestKeyringConcurrentWriters checks that the flock serializes writers: no
// key created by any of several Keyrings at once is lost.
func TestKeyringConcurrentWriters(t *testing.T) {
	first, _, dir := openTestKeyring(t)
	rings := []*Keyring{first}
	for range 2 {
		k, _, err := OpenKeyring(dir)
		if err != nil {
			t.Fatal(err)
		}
		rings = append(rings, k)
	}
	const perRing = 8
	var wg sync.WaitGroup
	errs := make(chan error, len(rings)*perRing)
	for r, k := range rings {
		for i := range perRing {
			wg.Go(func() {
				if _, err := k.Create(fmt.Sprintf("k%d-%d", r, i), nil); err != nil {
					errs <- err
				}
				k.Lookup("KEEL0000000000000000") // reloads race with writes
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, k := range rings {
		if n := len(k.List()); n != 1+len(rings)*perRing {
			t.Errorf("a keyring lists %d keys, want %d", n, 1+len(rings)*perRing)
		}
	}
}

func TestKeyringCreateAndDeleteErrors(t *testing.T) {
	k, admin, _ := openTestKeyring(t)
	tests := []struct {
		name  string
		key   string
		scope *Scope
		want  string
	}{
		{"empty name", "", nil, "1 to 64 characters"},
		{"name with slash", "a/b", nil, "may contain only"},
		{"duplicate name", "admin", nil, `a key named "admin" already exists (` + admin.ID + ")"},
		{"scope without group", "x", &Scope{StreamPrefix: "p"}, "names no log group"},
		{"wildcard action", "x", &Scope{Group: "g", Actions: []string{"logs:*"}}, `scope action "logs:*"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := k.Create(tt.key, tt.scope)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Create(%q) = %v, want an error containing %q", tt.key, err, tt.want)
			}
		})
	}
	if err := k.Delete("KEEL0000000000000000"); !errors.Is(err, ErrKeyNotFound) || !strings.Contains(err.Error(), "KEEL0000000000000000") {
		t.Errorf("Delete(unknown) = %v, want ErrKeyNotFound naming the id", err)
	}

	in := &Scope{Group: "g", Actions: []string{"logs:PutLogEvents", "putlogevents", " GetLogEvents "}}
	key, err := k.Create("reader", in)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(key.Scope.Actions, ","); got != "PutLogEvents,GetLogEvents" {
		t.Errorf("stored actions %q, want PutLogEvents,GetLogEvents", got)
	}
	if key.Scope == in || len(in.Actions) != 3 {
		t.Error("Create kept or changed the caller's scope instead of copying it")
	}
}

func TestOpenKeyringRejectsBadFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    []string
	}{
		{"corrupt JSON", "{\"version\": 1,\n \"keys\": [\n  {\"id\": \"KEEL\",,}\n]}\n", 0o600,
			[]string{"invalid JSON at line 3", "repair the file, or move it away"}},
		{"readable by others", string(encodeKeysFile(nil)), 0o644,
			[]string{"mode 0644 lets other users read the secret keys", "chmod 600 "}},
		{"unknown version", `{"version": 2, "keys": []}`, 0o600, []string{"format version 2"}},
		{"key without secret", `{"version": 1, "keys": [{"id": "KEELX", "name": "n"}]}`, 0o600, []string{`key #1 ("n") has no id or no secret`}},
		{"duplicate id", `{"version": 1, "keys": [{"id": "A", "secret": "s"}, {"id": "A", "secret": "t"}]}`, 0o600, []string{"key id A appears twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, KeysFileName)
			if err := os.WriteFile(path, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil { // past the umask
				t.Fatal(err)
			}
			_, _, err := OpenKeyring(dir)
			if err == nil {
				t.Fatal("OpenKeyring accepted the file")
			}
			for _, w := range append(tt.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestKeyringKeepsKeysWhenFileBreaks: a running server keeps its last good
// keys while someone botches a hand edit, and picks up the repaired file.
func TestKeyringKeepsKeysWhenFileBreaks(t *testing.T) {
	k, admin, dir := openTestKeyring(t)
	path := filepath.Join(dir, KeysFileName)
	if err := fsutil.WriteFileAtomic(path, []byte("{oops"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.Lookup(admin.ID); !ok {
		t.Fatal("a corrupt keys.json dropped the keys in service")
	}
	if _, err := k.Create("x", nil); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Create on a corrupt keys.json = %v, want an error naming it", err)
	}
	other := Key{ID: "KEELOTHER00000000000", Secret: strings.Repeat("s", 40), Name: "other"}
	if err := fsutil.WriteFileAtomic(path, encodeKeysFile([]Key{other}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.Lookup(other.ID); !ok {
		t.Error("repaired keys.json not picked up")
	}
	if _, ok := k.Lookup(admin.ID); ok {
		t.Error("key missing from the repaired keys.json still accepted")
	}
}

// BenchmarkLookup measures the per-request cost of the keyring: one stat of
// keys.json and a map read.
func BenchmarkLookup(b *testing.B) {
	k, admin, _ := openTestKeyring(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := k.Lookup(admin.ID); !ok {
			b.Fatal("admin key unknown")
		}
	}
}
