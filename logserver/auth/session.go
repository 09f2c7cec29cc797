package auth

import (
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/keelvm/keel/iampolicy"
)

// Session credentials are what an EC2 instance role gives an instance
// (through IMDS) and what `keel run` gives its VM the same way: an access
// key id, a secret and a session token, which expire, with their rights
// written as an IAM policy document. Every request must carry the token
// (X-Amz-Security-Token); an expired session is answered with
// ExpiredTokenException and a wrong or missing token with
// UnrecognizedClientException, as AWS answers, and only once the signature
// holds. aws-sdk-go-v2 (signer/v4 setRequiredSigningFields) and botocore
// (SigV4Auth._modify_request_before_signing) add the header before signing,
// so they sign it; the token is not required among the SignedHeaders
// because AWS's SigV4 test suite (post-sts-header-after) shows a token
// added after signing, which some services accept: such a client works.

// securityTokenHeader carries a session's token in every request.
const securityTokenHeader = "X-Amz-Security-Token"

// sessionTokenLength is the length of a session token: long, as STS's are,
// and drawn from the secret's alphabet.
const sessionTokenLength = 96

// MaxSessionTTL is the longest a session may last: EC2's role credentials
// last at most 6 hours, and keel's sessions are shorter still by default.
const MaxSessionTTL = 12 * time.Hour

// CreateSession stores new session credentials named name, valid for ttl
// from now, allowed what policy allows and nothing else.
func (k *Keyring) CreateSession(name string, policy iampolicy.Document, ttl time.Duration) (Key, error) {
	if err := checkKeyName(name); err != nil {
		return Key{}, fmt.Errorf("create session: %w", err)
	}
	if ttl <= 0 || ttl > MaxSessionTTL {
		return Key{}, fmt.Errorf("create session %q: lifetime %v: want more than 0 and at most %v", name, ttl, MaxSessionTTL)
	}
	if err := policy.Check(); err != nil {
		return Key{}, fmt.Errorf("create session %q: policy: %w", name, err)
	}
	if len(policy.Statement) == 0 {
		return Key{}, fmt.Errorf("create session %q: the policy has no statement: a session would have no rights", name)
	}
	var key Key
	err := k.update(func(keys []Key) ([]Key, error) {
		ids := make(map[string]bool, len(keys))
		for _, old := range keys {
			if old.Name == name {
				return nil, fmt.Errorf("a key named %q already exists (%s)", name, old.ID)
			}
			ids[old.ID] = true
		}
		created := now()
		pol := policy
		key = Key{ID: newKeyID(), Secret: newSecret(), Name: name, Created: created,
			Token: randomString(sessionTokenLength, secretAlphabet), Expires: created.Add(ttl), Policy: &pol}
		for ids[key.ID] {
			key.ID = newKeyID()
		}
		return append(keys, key), nil
	})
	if err != nil {
		return Key{}, fmt.Errorf("create session %q: %w", name, err)
	}
	return key, nil
}

// IsSession reports whether key is session credentials.
func (key Key) IsSession() bool { return key.Token != "" }

// DeleteWhere removes every key for which drop is true, in one write of
// keys.json, and returns how many it removed.
func (k *Keyring) DeleteWhere(drop func(Key) bool) (int, error) {
	n := 0
	err := k.update(func(keys []Key) ([]Key, error) {
		out := keys[:0:0]
		for _, key := range keys {
			if drop(key) {
				n++
				continue
			}
			out = append(out, key)
		}
		return out, nil
	})
	return n, err
}

// checkSessionToken checks the token a request presents: session
// credentials need theirs. A long-lived key ignores one, as keel always
// has: a client's stray AWS_SESSION_TOKEN must not lock out a local key.
func (v *Verifier) checkSessionToken(key Key, token string) *Error {
	if !key.IsSession() {
		return nil
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(key.Token)) != 1 {
		return errUnrecognizedClient()
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	if !now().Before(key.Expires) {
		return newError(CodeExpiredToken, "The security token included in the request is expired")
	}
	return nil
}

// authorizePolicy decides a request of session credentials by their
// policy, on the resource IAM names for the action.
func authorizePolicy(key Key, action, group, stream, account, region string) *Error {
	action = trimLogsPrefix(action)
	resource := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:log-stream:%s", region, account, group, stream)
	switch {
	case group == "":
		resource = fmt.Sprintf("arn:aws:logs:%s:%s:log-group:*", region, account)
	case stream == "":
		resource = fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:*", region, account, group)
	}
	decision := key.Policy.Evaluate("logs:"+action, resource)
	if decision == iampolicy.Allowed {
		return nil
	}
	why := "because no identity-based policy allows the logs:" + action + " action"
	if decision == iampolicy.ExplicitDeny {
		why = "with an explicit deny in an identity-based policy"
	}
	user := key.Name
	if user == "" {
		user = key.ID
	}
	return newError(CodeAccessDenied, fmt.Sprintf(
		"User: arn:aws:sts::%s:assumed-role/%s is not authorized to perform: logs:%s on resource: %s %s",
		account, user, action, resource, why))
}
