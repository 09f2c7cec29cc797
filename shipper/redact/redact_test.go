package redact

import (
	"slices"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"access key", "key=AKIAIOSFODNN7EXAMPLE ok", "key=[REDACTED] ok"},
		{"session key", "ASIAY34FZKBOKMUTVV7A", "[REDACTED]"},
		{"secret key", `aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`, `aws_secret_access_key = [REDACTED]`},
		{"secret json", `{"SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`, `{"SecretAccessKey":"[REDACTED]"}`},
		{"bearer", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc-_", "Authorization: Bearer [REDACTED]"},
		{"url password", "connect postgres://app:s3cr3t@db:5432/x", "connect postgres://app:[REDACTED]@db:5432/x"},
		{"pem one message", "k=-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- after", "k=[REDACTED] after"},
		{"nothing", "GET /index.html 200 secret santa", "GET /index.html 200 secret santa"},
	}
	r := Default()
	for _, tc := range cases {
		if got := r.Redact(tc.in, nil); got != tc.want {
			t.Errorf("%s: Redact(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestPEMAcrossLines(t *testing.T) {
	cases := []struct {
		name        string
		lines, want []string
	}{
		{"a key, line by line",
			[]string{"before", "key: -----BEGIN PRIVATE KEY-----", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "Zm9v==", "-----END PRIVATE KEY-----", "after"},
			[]string{"before", "key: [REDACTED]", "[REDACTED]", "[REDACTED]", "[REDACTED]", "after"}},
		{"an encrypted key's headers",
			[]string{"-----BEGIN RSA PRIVATE KEY-----", "Proc-Type: 4,ENCRYPTED", "DEK-Info: AES-128-CBC,7F1A", "", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "-----END RSA PRIVATE KEY-----", "after"},
			[]string{"[REDACTED]", "[REDACTED]", "[REDACTED]", "[REDACTED]", "[REDACTED]", "[REDACTED]", "after"}},
		{"a message that only names the marker",
			[]string{"load key: want a file starting with -----BEGIN PRIVATE KEY-----, got garbage", "next request ok", "done"},
			[]string{"load key: want a file starting with [REDACTED]", "next request ok", "done"}},
		{"a key whose END was lost",
			[]string{"-----BEGIN EC PRIVATE KEY-----", "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5y", "GET /health 200 1.2ms", "after"},
			[]string{"[REDACTED]", "[REDACTED]", "GET /health 200 1.2ms", "after"}},
		{"log prefixes before the key's lines",
			[]string{"12:00:01 -----BEGIN PRIVATE KEY-----", "12:00:01 MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ", "12:00:01 -----END PRIVATE KEY-----", "12:00:02 after"},
			[]string{"12:00:01 [REDACTED]", "[REDACTED]", "[REDACTED]", "12:00:02 after"}},
	}
	r := Default()
	for _, tc := range cases {
		var in bool
		for i, l := range tc.lines {
			if got := r.Redact(l, &in); got != tc.want[i] {
				t.Errorf("%s: line %d: %q, want %q", tc.name, i, got, tc.want[i])
			}
		}
	}
}

func TestOffAndUser(t *testing.T) {
	r, err := New([]string{"aws-access-key"}, []string{`user-\d+`})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Redact("AKIAIOSFODNN7EXAMPLE user-42", nil); got != "AKIAIOSFODNN7EXAMPLE [REDACTED]" {
		t.Errorf("got %q", got)
	}
	if _, err := New([]string{"nope"}, nil); err == nil || !strings.Contains(err.Error(), "aws-access-key") {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := New(nil, []string{"("}); err == nil {
		t.Error("bad regexp accepted")
	}
}

func BenchmarkRedactClean(b *testing.B) {
	r := Default()
	line := `{"level":"info","msg":"GET /api/v1/items?id=42 200 1.2ms","requestId":"b7c1"}`
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.Redact(line, nil)
	}
}

func TestContainsFold(t *testing.T) {
	cases := []struct {
		s, sub string
		want   bool
	}{
		{"", "secret", false},
		{"secret", "secret", true},
		{"my SeCrEt key", "secret", true},
		{"sssssecre", "secret", false},
		{"ssssSecret", "secret", true},
		{"Sss secre Secret", "secret", true},
		{"no match here at all", "bearer", false},
		{"Authorization: BEARER x", "bearer", true},
		{"trailing bearer", "bearer", true},
		{"bearebearer", "bearer", true},
		{"Bearebeare", "bearer", false},
	}
	for _, tc := range cases {
		if got := containsFold(tc.s, tc.sub); got != tc.want {
			t.Errorf("containsFold(%q, %q) = %v, want %v", tc.s, tc.sub, got, tc.want)
		}
	}
}

func TestNamesAreTheBuiltins(t *testing.T) {
	var got []string
	for _, r := range builtins() {
		got = append(got, r.name)
	}
	if !slices.Equal(got, Names()) {
		t.Fatalf("Names() = %v, the built-ins are %v", Names(), got)
	}
}

// TestKeysInEscapedAndEdgeContexts: keys that the plain-text cases miss.
// A secret key is 40 characters of base64's alphabet and ends in '/' or
// '+' about once in 32 keys, where \b finds no boundary; an STS or IAM
// response logged inside a JSON log line has its quotes escaped; a key
// after an escaped newline or tab follows a letter ("\n", "\t"), where \b
// finds no boundary either.
func TestKeysInEscapedAndEdgeContexts(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"secret key ending in /", "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE/", "aws_secret_access_key=[REDACTED]"},
		{"secret key ending in + before a quote", `{"SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE+"}`, `{"SecretAccessKey":"[REDACTED]"}`},
		{"secret key ending in / before a space", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE/ next", "AWS_SECRET_ACCESS_KEY=[REDACTED] next"},
		{"STS response in a JSON log line",
			`{"msg":"assumed {\"AccessKeyId\":\"ASIAY34FZKBOKMUTVV7A\",\"SecretAccessKey\":\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"}"}`,
			`{"msg":"assumed {\"AccessKeyId\":\"[REDACTED]\",\"SecretAccessKey\":\"[REDACTED]\"}"}`},
		{"access key after an escaped newline", `{"msg":"creds:\nAKIAIOSFODNN7EXAMPLE"}`, `{"msg":"creds:\n[REDACTED]"}`},
		{"access key after an escaped tab", `{"msg":"AWS_ACCESS_KEY_ID\tAKIAIOSFODNN7EXAMPLE"}`, `{"msg":"AWS_ACCESS_KEY_ID\t[REDACTED]"}`},
		// Not keys: a longer run of either alphabet is something else.
		{"longer than a secret key", "secret_key=" + strings.Repeat("a", 41), "secret_key=" + strings.Repeat("a", 41)},
		{"inside a longer word", "XAKIAIOSFODNN7EXAMPLE", "XAKIAIOSFODNN7EXAMPLE"},
		{"escaped newline then a word", `\nAKIAIOSFODNN7EXAMPLEX`, `\nAKIAIOSFODNN7EXAMPLEX`},
	}
	r := Default()
	for _, tc := range cases {
		if got := r.Redact(tc.in, nil); got != tc.want {
			t.Errorf("%s: Redact(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

// TestURLPasswordAndPEMPrefix: a password with an '@' left unencoded (the
// authority ends at the last '@', as URL parsers read it) is redacted
// whole, and the text before a PEM key's BEGIN marker still gets the
// other patterns.
func TestURLPasswordAndPEMPrefix(t *testing.T) {
	r := Default()
	cases := []struct{ name, in, want string }{
		{"unencoded @ in a password", "dsn postgres://app:p@ss@db:5432/x", "dsn postgres://app:[REDACTED]@db:5432/x"},
		{"two URLs", "from http://a:x@h1/ to http://b:y@h2/", "from http://a:[REDACTED]@h1/ to http://b:[REDACTED]@h2/"},
		{"an @ after the path", "GET http://h:80/u@x", "GET http://h:80/u@x"},
		{"compact JSON", `{"db":"postgres://u:pw@h","mail":"a@b"}`, `{"db":"postgres://u:[REDACTED]@h","mail":"a@b"}`},
	}
	for _, tc := range cases {
		if got := r.Redact(tc.in, nil); got != tc.want {
			t.Errorf("%s: Redact(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
	var in bool
	if got := r.Redact("key of AKIAIOSFODNN7EXAMPLE: -----BEGIN PRIVATE KEY-----", &in); got != "key of [REDACTED]: [REDACTED]" || !in {
		t.Errorf("PEM BEGIN after an access key: %q (in PEM %v)", got, in)
	}
}

// TestNoRedactionOfOrdinaryText: the patterns take secrets, not the text
// around them. A URL's host:port followed, further on, by an '@' in
// another JSON or Python value (an e-mail address) took everything in
// between, the next key included; "bearer" in prose took the next word.
func TestNoRedactionOfOrdinaryText(t *testing.T) {
	r := Default()
	cases := []struct{ name, in, want string }{
		{"JSON: port, then an e-mail", `{"url":"http://localhost:8080","user":"bob@example.com"}`, `{"url":"http://localhost:8080","user":"bob@example.com"}`},
		{"JSON: URL without port, then a colon and an @", `{"a":"http://x","b":"y:z@w"}`, `{"a":"http://x","b":"y:z@w"}`},
		{"Python repr", `{'url': 'http://proxy:3128', 'owner': 'alice@corp.com'}`, `{'url': 'http://proxy:3128', 'owner': 'alice@corp.com'}`},
		{"apostrophe in a password", `DATABASE_URL=mysql://root:it's-secret@10.0.0.5/db`, `DATABASE_URL=mysql://root:[REDACTED]@10.0.0.5/db`},
		{"apostrophe in a password, no user", `redis://:s3cr'et@cache:6379/0`, `redis://:[REDACTED]@cache:6379/0`},
		{"bearer in prose", "the bearer of this note", "the bearer of this note"},
		{"bearer, a long word", "bearer authentication failed", "bearer authentication failed"},
		// Still redacted:
		{"password in JSON", `{"dsn":"postgres://u:pw@h/db"}`, `{"dsn":"postgres://u:[REDACTED]@h/db"}`},
		{"bearer JWT", "authorization: bearer eyJhbGciOiJIUzI1NiJ9.e30.abc", "authorization: bearer [REDACTED]"},
		{"bearer token of letters only", "Authorization: Bearer abcdefghijklmnopqrstuvwx", "Authorization: Bearer [REDACTED]"},
		{"bearer token with a digit", "Bearer ab12", "Bearer [REDACTED]"},
	}
	for _, tc := range cases {
		if got := r.Redact(tc.in, nil); got != tc.want {
			t.Errorf("%s: Redact(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}
