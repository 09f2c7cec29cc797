package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const putBody = `{"logGroupName":"vm/web","logStreamName":"web-1","logEvents":[{"timestamp":1704067800000,"message":"hello"}]}`

func sdkHeaders(op string) http.Header {
	return http.Header{
		"Content-Type":          {"application/x-amz-json-1.1"},
		"X-Amz-Target":          {"Logs_20140328." + op},
		"X-Amz-User-Agent":      {"aws-sdk-go-v2/1.48.0  os/linux   lang/go#1.26 md/GOOS#linux"},
		"Amz-Sdk-Invocation-Id": {"0b7c4a36-1c47-4d3c-9f1e-1f2d1a7c9e01"},
		"Amz-Sdk-Request":       {"attempt=1; max=3"},
	}
}

func TestVerifyAcceptsSDKSignatures(t *testing.T) {
	k, admin, _ := openTestKeyring(t)
	v := &Verifier{Keys: k, Now: func() time.Time { return testNow }}
	withToken := creds(admin)
	withToken.SessionToken = "FwoGZXIvYXdzEBYaDH session token"

	tests := []struct {
		name string
		req  signed
	}{
		{"PutLogEvents as the SDK sends it", signed{header: sdkHeaders("PutLogEvents"), body: []byte(putBody)}},
		{"query string", signed{
			target: "/?b=2&a=1&a=0&space=x%20y&plus=a%2Bb&slash=a%2Fb&tilde=~&empty=&utf8=%C3%A9",
			header: sdkHeaders("DescribeLogGroups"), body: []byte("{}"),
		}},
		{"path needing escapes", signed{target: "/a%20b/c%2Fd/", header: sdkHeaders("DescribeLogGroups"), body: []byte("{}")}},
		{"lower-case header names", signed{
			header: http.Header{
				"content-type": {"application/x-amz-json-1.1"},
				"x-amz-target": {"Logs_20140328.PutLogEvents"},
				"x-custom":     {"  padded   value  "},
			},
			body: []byte(putBody),
		}},
		{"repeated header", signed{
			header: http.Header{"X-Amz-Target": {"Logs_20140328.PutLogEvents"}, "X-Meta": {"a", "b  c"}},
			body:   []byte(putBody),
		}},
		{"session token", signed{header: sdkHeaders("PutLogEvents"), body: []byte(putBody), creds: withToken}},
		{"empty body", signed{header: sdkHeaders("DescribeLogGroups")}},
		{"body hash header", signed{
			header: http.Header{"X-Amz-Content-Sha256": {sha256Hex([]byte(putBody))}, "X-Amz-Target": {"Logs_20140328.PutLogEvents"}},
			body:   []byte(putBody),
		}},
		{"any region", signed{header: sdkHeaders("PutLogEvents"), body: []byte(putBody), region: "keel-local-1"}},
		{"signed exactly MaxSkew ago", signed{header: sdkHeaders("PutLogEvents"), body: []byte(putBody), at: testNow.Add(-5 * time.Minute)}},
		{"signed exactly MaxSkew ahead", signed{header: sdkHeaders("PutLogEvents"), body: []byte(putBody), at: testNow.Add(5 * time.Minute)}},
		{"unsigned header added on the way", signed{
			header: sdkHeaders("PutLogEvents"), body: []byte(putBody),
			after: func(r *http.Request) {
				r.Header.Set("X-Forwarded-For", "10.0.0.1")
				r.Header.Set("User-Agent", "proxy")
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.req.creds.AccessKeyID == "" {
				tt.req.creds = creds(admin)
			}
			r, body := serverRequest(t, tt.req)
			key, err := v.Verify(r, body)
			if err != nil {
				t.Fatalf("Verify: %v\nAuthorization: %s", err, r.Header.Get("Authorization"))
			}
			if key.ID != admin.ID {
				t.Fatalf("Verify returned key %s, want %s", key.ID, admin.ID)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	k, admin, _ := openTestKeyring(t)
	v := &Verifier{Keys: k, Now: func() time.Time { return testNow }}
	wrongSecret := creds(admin)
	wrongSecret.SecretAccessKey = strings.Repeat("x", 40)
	unknown := creds(admin)
	unknown.AccessKeyID = "KEEL0000000000000000"
	body := []byte(putBody)
	setAuth := func(f func(string) string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", f(r.Header.Get("Authorization"))) }
	}
	const mismatch = msgSignatureMismatch

	tests := []struct {
		name    string
		req     signed
		code    string
		message string // exact, unless prefix is set
		prefix  bool
	}{
		{"wrong secret", signed{creds: wrongSecret}, CodeInvalidSignature, mismatch, false},
		{"unknown key", signed{creds: unknown}, CodeUnrecognizedClient, "The security token included in the request is invalid.", false},
		{"tampered body", signed{after: func(r *http.Request) {
			r.Body = io.NopCloser(bytes.NewReader(bytes.Replace(body, []byte("hello"), []byte("HELLO"), 1)))
		}}, CodeInvalidSignature, mismatch, false},
		{"tampered signed header", signed{after: func(r *http.Request) {
			r.Header.Set("X-Amz-Target", "Logs_20140328.DeleteLogGroup")
		}}, CodeInvalidSignature, mismatch, false},
		{"tampered query", signed{target: "/?a=1", after: func(r *http.Request) { r.URL.RawQuery = "a=2" }},
			CodeInvalidSignature, mismatch, false},
		{"body hash header does not match body", signed{
			header: http.Header{"X-Amz-Content-Sha256": {sha256Hex([]byte("other"))}},
			hash:   sha256Hex([]byte("other")),
		}, CodeInvalidSignature, mismatch, false},
		{"unsigned payload", signed{
			header: http.Header{"X-Amz-Content-Sha256": {"UNSIGNED-PAYLOAD"}},
			hash:   "UNSIGNED-PAYLOAD",
		}, CodeInvalidSignature, mismatch, false},
		{"stale", signed{at: testNow.Add(-10 * time.Minute)}, CodeInvalidSignature,
			"Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z (20240101T001000Z - 5 min.)", false},
		{"future", signed{at: testNow.Add(10 * time.Minute)}, CodeInvalidSignature,
			"Signature not yet current: 20240101T002000Z is still later than 20240101T001500Z (20240101T001000Z + 5 min.)", false},
		{"wrong service", signed{service: "execute-api"}, CodeInvalidSignature,
			"Credential should be scoped to correct service: 'logs'. ", false},
		{"wrong terminator", signed{after: setAuth(func(a string) string { return strings.Replace(a, "/aws4_request", "/aws5_request", 1) })},
			CodeInvalidSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. ", false},
		{"empty region", signed{after: setAuth(func(a string) string { return strings.Replace(a, "/us-east-1/", "//", 1) })},
			CodeInvalidSignature, "Credential should be scoped to a valid region, not ''. ", false},
		{"scope date differs from X-Amz-Date", signed{after: setAuth(func(a string) string { return strings.Replace(a, "/20240101/", "/20231231/", 1) })},
			CodeInvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20231231' != '20240101', from '20240101T001000Z'.", false},
		{"no Authorization", signed{after: func(r *http.Request) { r.Header.Del("Authorization") }},
			CodeMissingAuthenticationToken, "Missing Authentication Token", false},
		{"no Signature parameter", signed{after: setAuth(func(a string) string { a, _, _ = strings.Cut(a, ", Signature="); return a })},
			CodeIncompleteSignature, "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 Credential=" + admin.ID + "/20240101/us-east-1/logs/aws4_request, SignedHeaders=", true},
		{"not SigV4 at all", signed{after: setAuth(func(string) string { return "Bearer abc.def" })},
			CodeIncompleteSignature, "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization=Bearer abc.def", false},
		{"no X-Amz-Date", signed{after: func(r *http.Request) { r.Header.Del("X-Amz-Date") }},
			CodeIncompleteSignature, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 ", true},
		{"X-Amz-Date not in basic format", signed{after: func(r *http.Request) { r.Header.Set("X-Amz-Date", "2024-01-01T00:10:00Z") }},
			CodeIncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '2024-01-01T00:10:00Z'. See http://en.wikipedia.org/wiki/ISO_8601", false},
		{"unsupported algorithm", signed{after: setAuth(func(a string) string { return strings.Replace(a, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1) })},
			CodeIncompleteSignature, "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'", true},
		{"space after Credential=", signed{after: setAuth(func(a string) string { return strings.Replace(a, "Credential=", "Credential= ", 1) })},
			CodeIncompleteSignature, "'" + admin.ID + "/20240101/us-east-1/logs/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential= ", true},
		{"credential with four parts", signed{after: setAuth(func(a string) string { return strings.Replace(a, "/us-east-1/", "/", 1) })},
			CodeIncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + admin.ID + "/20240101/logs/aws4_request'", false},
		{"host not signed", signed{after: setAuth(func(a string) string { return strings.Replace(a, "host;", "", 1) })},
			CodeIncompleteSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.", false},
		{"X-Amz-Target not signed", signed{header: http.Header{}, after: func(r *http.Request) { r.Header.Set("X-Amz-Target", "Logs_20140328.DeleteLogGroup") }},
			CodeIncompleteSignature, "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.", false},
		{"signature not hex", signed{after: setAuth(func(a string) string { return a[:len(a)-64] + strings.Repeat("zz", 32) })},
			CodeInvalidSignature, mismatch, false},
		{"signature truncated", signed{after: setAuth(func(a string) string { return a[:len(a)-2] })},
			CodeInvalidSignature, mismatch, false},
		{"second Signature parameter appended", signed{after: setAuth(func(a string) string { return a + ", Signature=" + strings.Repeat("0", 64) })},
			"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.req.creds.AccessKeyID == "" {
				tt.req.creds = creds(admin)
			}
			if tt.req.header == nil {
				tt.req.header = sdkHeaders("PutLogEvents")
			}
			tt.req.body = body
			r, got := serverRequest(t, tt.req)
			_, err := v.Verify(r, got)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify accepted the request; want %s", tt.code)
			}
			if err.Status != http.StatusBadRequest || err.Code != tt.code {
				t.Fatalf("Verify = %d %s (%s), want 400 %s", err.Status, err.Code, err.Message, tt.code)
			}
			if tt.prefix && !strings.HasPrefix(err.Message, tt.message) || !tt.prefix && err.Message != tt.message {
				t.Fatalf("message\n got: %q\nwant: %q (prefix=%v)", err.Message, tt.message, tt.prefix)
			}
		})
	}
}

// TestVerifyKnownAnswer checks against AWS's published get-vanilla vector and
// a Date-header variant built by hand, so the verifier is not only checked
// against the SDK it was modelled on.
func TestVerifyKnownAnswer(t *testing.T) {
	dir := t.TempDir()
	vanilla := Key{ID: "AKIDEXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", Name: "example", Created: testNow}
	writeKeysJSON(t, dir, vanilla)
	k, created, err := OpenKeyring(dir)
	if err != nil || created {
		t.Fatalf("OpenKeyring = %v, created %v", err, created)
	}
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	v := &Verifier{Keys: k, Service: "service", Now: func() time.Time { return at.Add(time.Minute) }}

	r, _ := http.NewRequest(http.MethodGet, "http://example.amazonaws.com/", nil)
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "+
		"SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
	if _, err := v.Verify(r, nil); err != nil {
		t.Fatalf("get-vanilla: %v", err)
	}

	// The same request dated by a Date header: the string to sign carries
	// the ISO-8601 form of that date.
	canonical := "GET\n/\n\ndate:Sun, 30 Aug 2015 12:36:00 GMT\nhost:example.amazonaws.com\n\ndate;host\n" + sha256Hex(nil)
	toSign := "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" + sha256Hex([]byte(canonical))
	mac := func(key []byte, s string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return m.Sum(nil)
	}
	sk := mac(mac(mac(mac([]byte("AWS4"+vanilla.Secret), "20150830"), "us-east-1"), "service"), "aws4_request")
	r, _ = http.NewRequest(http.MethodGet, "http://example.amazonaws.com/", nil)
	r.Header.Set("Date", "Sun, 30 Aug 2015 12:36:00 GMT")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "+
		"SignedHeaders=date;host, Signature="+hex.EncodeToString(mac(sk, toSign)))
	if _, err := v.Verify(r, nil); err != nil {
		t.Fatalf("Date header: %v", err)
	}
}

func TestVerifyDefaultsAndCache(t *testing.T) {
	k, admin, _ := openTestKeyring(t)
	v := &Verifier{Keys: k} // real clock, default skew and service
	now := time.Now()
	for i := range 3 { // the second and third use the cached signing key
		r, body := serverRequest(t, signed{header: sdkHeaders("PutLogEvents"), body: []byte(putBody), creds: creds(admin), at: now})
		if _, err := v.Verify(r, body); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if len(v.keys) != 1 {
		t.Fatalf("signing-key cache holds %d entries, want 1", len(v.keys))
	}
	if _, err := (&Verifier{}).Verify(&http.Request{Header: http.Header{}}, nil); err == nil || err.Code != CodeInternalFailure {
		t.Fatalf("Verify without a keyring = %v, want %s", err, CodeInternalFailure)
	}
}

func TestVerifyRefusesDeletedKey(t *testing.T) {
	k, _, _ := openTestKeyring(t)
	v := &Verifier{Keys: k, Now: func() time.Time { return testNow }}
	ci, err := k.Create("ci", nil)
	if err != nil {
		t.Fatal(err)
	}
	req := signed{header: sdkHeaders("PutLogEvents"), body: []byte(putBody), creds: creds(ci)}
	r, body := serverRequest(t, req)
	if _, err := v.Verify(r, body); err != nil {
		t.Fatalf("new key: %v", err)
	}
	if err := k.Delete(ci.ID); err != nil {
		t.Fatal(err)
	}
	r, body = serverRequest(t, req)
	if _, err := v.Verify(r, body); err == nil || err.Code != CodeUnrecognizedClient {
		t.Fatalf("deleted key: Verify = %v, want %s", err, CodeUnrecognizedClient)
	}
}

func BenchmarkVerify(b *testing.B) {
	k, admin, _ := openTestKeyring(b)
	v := &Verifier{Keys: k, Now: func() time.Time { return testNow }}
	for _, size := range []int{1 << 10, 1 << 20} {
		body := bytes.Repeat([]byte("x"), size)
		r, body := serverRequest(b, signed{header: sdkHeaders("PutLogEvents"), body: body, creds: creds(admin)})
		b.Run(byteSize(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(r, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func byteSize(n int) string {
	if n >= 1<<20 {
		return "1MiB"
	}
	return "1KiB"
}
