package auth

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/keelvm/keel/iampolicy"
)

// Key is one access key of the server. Treat a Key you are handed as read
// only: its Scope may be shared with the Keyring.
type Key struct {
	ID      string    `json:"id"`     // access key id, e.g. KEELQ3V7C2M9D4K8ZP1A
	Secret  string    `json:"secret"` // secret access key
	Name    string    `json:"name"`   // shown in AccessDenied messages as the IAM user name
	Created time.Time `json:"created"`
	Scope   *Scope    `json:"scope,omitempty"` // nil: full (admin) access, unless Policy is set

	// Session credentials (see session.go) carry a token that every
	// request must present, an end, and their rights as an IAM policy.
	Token   string              `json:"token,omitempty"`
	Expires time.Time           `json:"expires,omitzero"`
	Policy  *iampolicy.Document `json:"policy,omitempty"`
}

// Access key ids are "KEEL" and 16 characters of [A-Z0-9]: 20 characters like
// AWS's own ids, which some tools check, but never mistaken for a real AWS key
// ("AKIA..."), by a person deciding which key to revoke or by a secret scanner
// reporting a leak to AWS.
const (
	keyIDPrefix    = "KEEL"
	keyIDLength    = 20
	secretLength   = 40
	idAlphabet     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func newKeyID() string {
	return keyIDPrefix + randomString(keyIDLength-len(keyIDPrefix), idAlphabet)
}

func newSecret() string { return randomString(secretLength, secretAlphabet) }

// randomString draws n characters uniformly from alphabet (at most 256 long)
// with crypto/rand, rejecting bytes past the largest multiple of its length so
// no character is likelier than another.
func randomString(n int, alphabet string) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		rand.Read(buf) // never fails: crypto/rand aborts the program instead
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// checkKeyName keeps names to IAM's user-name alphabet, since a name appears
// as the user in an ARN in AccessDenied messages.
func checkKeyName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("key name %q must be 1 to 64 characters", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("key name %q may contain only letters, digits and +=,.@_-", name)
		}
	}
	return nil
}
