package auth

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzParseAuthorization feeds arbitrary Authorization values to the parser
// and to the whole of Verify, which must answer with an *Error, never panic.
func FuzzParseAuthorization(f *testing.F) {
	for _, seed := range []string{
		"",
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 Credential=KEELAAAAAAAAAAAAAAAA/20240101/us-east-1/logs/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("ab", 32),
		"AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;;, Signature=",
		"AWS4-HMAC-SHA256 Credential= a/b, SignedHeaders=host",
		"AWS4-HMAC-SHA256 ,,, = ==, Credential==, Signature==zz",
		"AWS4-ECDSA-P256-SHA256 Credential=x",
		"Bearer abc",
		"AWS4-HMAC-SHA256\tCredential=a/20240101/r/logs/aws4_request,SignedHeaders=HOST,Signature=00",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	keys, _, err := OpenKeyring(dir)
	if err != nil {
		f.Fatal(err)
	}
	v := &Verifier{Keys: keys, Now: func() time.Time { return testNow }}
	f.Fuzz(func(t *testing.T, value string) {
		if a, e := parseAuthorization(value); e == nil {
			if c, e := parseCredential(a.Credential); e == nil && !strings.HasPrefix(a.Credential, c.KeyID) {
				t.Fatalf("credential %q: key id %q is not its prefix", a.Credential, c.KeyID)
			}
		} else if e.Code != CodeIncompleteSignature {
			t.Fatalf("parse error with code %s", e.Code)
		}
		r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:4588/?a=%zz&b", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		r.Header["Authorization"] = []string{value}
		r.Header.Set("X-Amz-Date", "20240101T001000Z")
		r.Header.Set("X-Amz-Target", "Logs_20140328.PutLogEvents")
		if _, e := v.Verify(r, []byte("{}")); e == nil {
			t.Fatalf("Verify accepted %q", value)
		}
	})
}
