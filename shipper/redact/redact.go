// Package redact removes secrets from log lines before they leave the
// process: AWS access keys and secret keys, bearer tokens, passwords in URLs,
// PEM private keys (also when the key spans several lines, one per call), and
// user regular expressions. Matched text becomes [REDACTED].
//
// Each built-in pattern has a cheap literal trigger checked first, so that
// the common line without any secret costs a few substring searches and no
// regular expression at all.
package redact

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Mark replaces redacted text.
const Mark = "[REDACTED]"

type rule struct {
	name    string
	re      *regexp.Regexp
	repl    string              // regexp replacement; $1 etc. keep context
	trigger func(s string) bool // nil: always run (user patterns)
}

// builtinNames are the built-in patterns' names, in builtins' order.
var builtinNames = []string{"aws-access-key", "aws-secret-key", "bearer-token", "url-password", "pem-private-key"}

// builtins compiles the built-in patterns on first use, not at package
// init: keel's init links this package, and the compiling cost a TCG guest
// 10 ms of every boot before main, before the app could start.
var builtins = sync.OnceValue(func() []rule {
	return []rule{
		// A key starts a word, or follows an escaped newline, tab or CR
		// ("\nAKIA..." in a JSON log line), where \b finds no boundary
		// after the escape's letter. RE2 has no look-behind: the character
		// before is matched and put back.
		{"aws-access-key", regexp.MustCompile(`(^|[^A-Za-z0-9_]|\\[nrt])(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA)[A-Z0-9]{16}\b`), "${1}" + Mark,
			func(s string) bool {
				return strings.Contains(s, "A") && hasAny(s, "AKIA", "ASIA", "ABIA", "ACCA", "AIDA", "AROA")
			}},
		// A secret key is 40 characters of base64's alphabet, '/' and '+'
		// included: it ends where that alphabet does (\b would miss a key
		// ending in '/' or '+'). Its quotes may be escaped: an STS or IAM
		// response logged inside a JSON log line. No look-ahead either: the
		// character after is matched and put back.
		{"aws-secret-key", regexp.MustCompile(`(?i)(secret[_-]?(?:access[_-]?)?key(?:[_-]?id)?\\?["']?\s*[:=]\s*\\?["']?)[A-Za-z0-9/+]{40}([^A-Za-z0-9/+]|$)`), "${1}" + Mark + "${2}",
			func(s string) bool { return containsFold(s, "secret") }},
		// A token holds a digit or one of -._~+/ (a JWT, an opaque random
		// token), or is 16 letters or more: "the bearer of this note" and
		// "bearer authentication failed" are prose.
		{"bearer-token", regexp.MustCompile(`(?i)\b(bearer\s+)(?:[A-Za-z0-9\-._~+/]*[0-9\-._~+/][A-Za-z0-9\-._~+/]*|[A-Za-z]{16,})=*`), "${1}" + Mark,
			func(s string) bool { return containsFold(s, "bearer") }},
		// The password runs to the last '@' before the path, as URL
		// parsers read an authority: one with an '@' left unencoded is
		// redacted whole, not up to that '@'. Neither user nor password
		// runs past a double quote: in a JSON line the next '@' may be in
		// another value (an e-mail address after "host:8080"). A single
		// quote may be part of a password (RFC 3986 allows it unencoded).
		{"url-password", regexp.MustCompile(`(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s"]*:)[^@/\s"]+(?:@[^@/\s"]+)*@`), "${1}" + Mark + "@",
			func(s string) bool { return strings.Contains(s, "://") }},
		{"pem-private-key", regexp.MustCompile(`-----BEGIN[A-Z ]*PRIVATE KEY-----(?s:.*?)(?:-----END[A-Z ]*PRIVATE KEY-----|$)`), Mark,
			func(s string) bool { return strings.Contains(s, "PRIVATE KEY-----") }},
	}
})

// Names lists the built-in patterns, for -logs.redact.off.
func Names() []string { return slices.Clone(builtinNames) }

// Redactor applies the enabled patterns. It is safe for concurrent use; the
// multi-line PEM state lives with the caller (see Redact).
type Redactor struct {
	rules []rule
	pem   bool // the PEM rule is on
}

// Default returns a Redactor with every built-in pattern on.
func Default() *Redactor {
	r, _ := New(nil, nil)
	return r
}

// None returns a Redactor that changes nothing.
func None() *Redactor { return &Redactor{} }

// New returns a Redactor with the built-ins except those named in off, plus
// the user's regular expressions.
func New(off, user []string) (*Redactor, error) {
	for _, name := range off {
		if !slices.Contains(Names(), name) {
			return nil, fmt.Errorf("redaction pattern %q does not exist; the built-ins are %s", name, strings.Join(Names(), ", "))
		}
	}
	r := &Redactor{}
	for _, b := range builtins() {
		if !slices.Contains(off, b.name) {
			r.rules = append(r.rules, b)
			r.pem = r.pem || b.name == "pem-private-key"
		}
	}
	for _, u := range user {
		re, err := regexp.Compile(u)
		if err != nil {
			return nil, fmt.Errorf("redaction pattern %q: %w", u, err)
		}
		r.rules = append(r.rules, rule{name: "user", re: re, repl: Mark})
	}
	return r, nil
}

// Redact returns s with secrets replaced. inPEM carries the state of a PEM
// block across lines of one source: a line that ends with a private key's
// BEGIN marker sets it, and the key's lines (base64, headers) are redacted
// whole until the END line. A line that is none of these ends the state
// too, so that a key whose end was lost, or a message that only names the
// marker, does not blank the rest of the stream. inPEM may be nil when s is
// a complete message.
func (r *Redactor) Redact(s string, inPEM *bool) string {
	if r.pem && inPEM != nil {
		if *inPEM {
			switch {
			case strings.Contains(s, "-----END") && strings.Contains(s, "PRIVATE KEY-----"):
				*inPEM = false
				return Mark
			case pemBodyLine(s):
				return Mark
			}
			*inPEM = false
		}
		if i := strings.Index(s, "-----BEGIN"); i >= 0 && isPEMBegin(strings.TrimRight(s[i:], " \t\r")) {
			*inPEM = true
			// The text before the marker may hold other secrets.
			return r.Redact(s[:i], nil) + Mark
		}
	}
	for _, ru := range r.rules {
		if ru.trigger != nil && !ru.trigger(s) {
			continue
		}
		s = ru.re.ReplaceAllString(s, ru.repl)
	}
	return s
}

// isPEMBegin reports whether s is exactly a private key's BEGIN marker,
// "-----BEGIN [A-Z ]*PRIVATE KEY-----".
func isPEMBegin(s string) bool {
	mid, ok := strings.CutPrefix(s, "-----BEGIN")
	if !ok {
		return false
	}
	mid, ok = strings.CutSuffix(mid, "PRIVATE KEY-----")
	return ok && allBytes(mid, func(c byte) bool { return c == ' ' || c >= 'A' && c <= 'Z' })
}

// pemBodyLine reports whether s may be a line inside a PEM block: blank, a
// header (Proc-Type:, DEK-Info:), base64 throughout, or holding a long run
// of base64 (a log prefix before the key's lines).
func pemBodyLine(s string) bool {
	t := strings.TrimSpace(s)
	if t == "" || strings.HasPrefix(t, "Proc-Type:") || strings.HasPrefix(t, "DEK-Info:") || allBytes(t, isBase64) {
		return true
	}
	run := 0
	for i := 0; i < len(t); i++ {
		if !isBase64(t[i]) {
			run = 0
			continue
		}
		if run++; run >= 40 {
			return true
		}
	}
	return false
}

func isBase64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func hasAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains the lower-case ASCII word sub in
// any case, without allocating. Candidates are found with IndexByte (vector
// instructions) for both cases of sub's first letter: it runs on every
// line shipped, and most lines hold neither.
func containsFold(s, sub string) bool {
	n := len(sub)
	lo, up := sub[0], sub[0]&^0x20
	nextLo, nextUp := -2, -2 // -2: not searched yet; -1: none left
	for i := 0; i+n <= len(s); {
		if nextLo != -1 && nextLo < i {
			nextLo = indexFrom(s, lo, i)
		}
		if nextUp != -1 && nextUp < i {
			nextUp = indexFrom(s, up, i)
		}
		switch {
		case nextLo < 0 && nextUp < 0:
			return false
		case nextLo < 0 || nextUp >= 0 && nextUp < nextLo:
			i = nextUp
		default:
			i = nextLo
		}
		if i+n > len(s) {
			return false
		}
		j := 1
		for j < n && s[i+j]|0x20 == sub[j] {
			j++
		}
		if j == n {
			return true
		}
		i++
	}
	return false
}

// indexFrom is the index of c in s at or after i, or -1.
func indexFrom(s string, c byte, i int) int {
	if k := strings.IndexByte(s[i:], c); k >= 0 {
		return i + k
	}
	return -1
}
