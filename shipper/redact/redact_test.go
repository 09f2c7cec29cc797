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
