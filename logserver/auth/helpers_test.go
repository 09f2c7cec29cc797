package auth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// testNow is the server's clock in signature tests.
var testNow = time.Date(2024, 1, 1, 0, 10, 0, 0, time.UTC)

// openTestKeyring opens a keyring in a fresh directory and returns it with
// its admin key.
func openTestKeyring(t testing.TB) (*Keyring, Key, string) {
	t.Helper()
	dir := t.TempDir()
	k, created, err := OpenKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("OpenKeyring of an empty directory did not report creating the admin key")
	}
	keys := k.List()
	if len(keys) != 1 {
		t.Fatalf("new keyring holds %d keys, want 1", len(keys))
	}
	return k, keys[0], dir
}

// writeKeysJSON puts hand-made keys into dir/keys.json, for keys whose id
// and secret a test must choose (published test vectors).
func writeKeysJSON(t testing.TB, dir string, keys ...Key) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, KeysFileName), encodeKeysFile(keys), 0o600); err != nil {
		t.Fatal(err)
	}
}

func creds(k Key) aws.Credentials {
	return aws.Credentials{AccessKeyID: k.ID, SecretAccessKey: k.Secret}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// signed describes a request to sign with the real SDK signer.
type signed struct {
	method  string      // default POST
	target  string      // path and query; default "/"
	header  http.Header // set as given, keeping the map keys' casing
	body    []byte
	hash    string // payload hash given to the signer; default sha256(body)
	creds   aws.Credentials
	service string    // default "logs"
	region  string    // default "us-east-1"
	at      time.Time // default testNow
	after   func(*http.Request)
}

// serverRequest signs s like an SDK client, lets s.after tamper with the
// result, then sends it through HTTP/1.1 framing and returns the request and
// body as a Go server sees them: Host moved to r.Host, Content-Length to
// r.ContentLength, header names canonicalized.
func serverRequest(t testing.TB, s signed) (*http.Request, []byte) {
	t.Helper()
	if s.method == "" {
		s.method = http.MethodPost
	}
	if s.target == "" {
		s.target = "/"
	}
	if s.service == "" {
		s.service = "logs"
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.at.IsZero() {
		s.at = testNow
	}
	if s.hash == "" {
		s.hash = sha256Hex(s.body)
	}
	req, err := http.NewRequest(s.method, "http://127.0.0.1:4588"+s.target, bytes.NewReader(s.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range s.header {
		req.Header[k] = append([]string(nil), v...)
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), s.creds, req, s.hash, s.service, s.region, s.at); err != nil {
		t.Fatal(err)
	}
	if s.after != nil {
		s.after(req)
	}
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		t.Fatal(err)
	}
	sr, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(sr.Body)
	if err != nil {
		t.Fatal(err)
	}
	return sr, body
}
