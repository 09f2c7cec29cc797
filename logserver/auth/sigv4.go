package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

const (
	amzDateLayout   = "20060102T150405Z"
	scopeDateLayout = "20060102"
	scopeTerminator = "aws4_request"
)

// Verifier checks AWS Signature Version 4 on incoming requests. Set Keys; the
// other fields have defaults. A Verifier must not be copied after first use.
type Verifier struct {
	Keys    *Keyring
	Now     func() time.Time // default time.Now
	MaxSkew time.Duration    // how far X-Amz-Date may be from Now; default 5 * time.Minute
	Service string           // the service name the credential scope must carry; default "logs"

	// Signing keys derived per (key, date, region): the HMAC chain costs four
	// HMACs, which every request of a client would otherwise repeat.
	mu   sync.Mutex
	keys map[signingKeyID]signingKey
}

type signingKeyID struct{ keyID, date, region string }

type signingKey struct {
	secret string // the secret it was derived from; a changed secret misses
	key    []byte
}

// maxCachedSigningKeys bounds the cache: a client may name any region, so
// the set of (date, region) pairs is not bounded by anything else.
const maxCachedSigningKeys = 1024

// Verify checks the signature of r, whose body the caller has read into
// body, and returns the key that made it. On failure it returns the error AWS
// would send. Only the SHA-256 of body costs time in proportion to the
// request; the rest is one stat of keys.json (see Keyring.Lookup) and a few
// small HMACs.
func (v *Verifier) Verify(r *http.Request, body []byte) (Key, *Error) {
	if v.Keys == nil {
		return Key{}, newError(CodeInternalFailure, "The server has no keyring configured.")
	}
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return Key{}, errMissingToken()
	}
	a, e := parseAuthorization(authz)
	if e != nil {
		return Key{}, e
	}
	amzDate, httpDate := r.Header.Get("X-Amz-Date"), r.Header.Get("Date")
	if e := checkComplete(a, amzDate != "" || httpDate != "", authz); e != nil {
		return Key{}, e
	}
	cred, e := parseCredential(a.Credential)
	if e != nil {
		return Key{}, e
	}
	signedAt, e := requestTime(amzDate, httpDate)
	if e != nil {
		return Key{}, e
	}
	stamp := signedAt.Format(amzDateLayout)
	if e := v.checkScope(cred, signedAt, stamp); e != nil {
		return Key{}, e
	}
	if e := checkSignedHeaders(r, a.SignedHeaders); e != nil {
		return Key{}, e
	}
	if e := v.checkTime(signedAt); e != nil {
		return Key{}, e
	}
	key, ok := v.Keys.Lookup(cred.KeyID)
	if !ok {
		return Key{}, errUnrecognizedClient()
	}

	sum := sha256.Sum256(body)
	var payloadHash [2 * sha256.Size]byte
	hex.Encode(payloadHash[:], sum[:])
	// A client that sends X-Amz-Content-Sha256 signs that value in place of
	// the body's hash; it must be the real hash, and UNSIGNED-PAYLOAD (which
	// S3 allows) is not.
	if h, ok := r.Header["X-Amz-Content-Sha256"]; ok && (len(h) != 1 || h[0] != string(payloadHash[:])) {
		return Key{}, errMismatch()
	}

	var want [sha256.Size]byte
	if len(a.Signature) != hex.EncodedLen(len(want)) {
		return Key{}, errMismatch()
	}
	if _, err := hex.Decode(want[:], []byte(a.Signature)); err != nil {
		return Key{}, errMismatch()
	}

	buf := canonicalBufs.Get().(*[]byte)
	defer putCanonicalBuf(buf)
	cr := (*buf)[:0]
	cr = append(cr, r.Method...)
	cr = append(cr, '\n')
	cr = appendCanonicalURI(cr, r.URL)
	cr = append(cr, '\n')
	cr = appendCanonicalQuery(cr, r.URL.RawQuery)
	cr = append(cr, '\n')
	cr = appendCanonicalHeaders(cr, r, a.SignedHeaders)
	cr = append(cr, '\n')
	cr = append(cr, a.SignedHeaders...)
	cr = append(cr, '\n')
	cr = append(cr, payloadHash[:]...)
	crHash := sha256.Sum256(cr)

	sts := cr[:0] // the canonical request is hashed; its buffer can hold the string to sign
	sts = append(sts, algorithmHMAC+"\n"...)
	sts = append(sts, stamp...)
	sts = append(sts, '\n')
	sts = append(sts, cred.Scope...)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, crHash[:])
	*buf = sts[:0]

	mac := hmac.New(sha256.New, v.signingKey(key, cred))
	mac.Write(sts)
	if !hmac.Equal(mac.Sum(nil), want[:]) {
		return Key{}, errMismatch()
	}
	// The session's token and expiry only once the signature holds: an
	// unsigned request must not learn whether a session exists or expired.
	if e := v.checkSessionToken(key, r.Header.Get(securityTokenHeader)); e != nil {
		return Key{}, e
	}
	return key, nil
}

var canonicalBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// putCanonicalBuf returns a buffer to the pool unless a request with huge
// headers grew it, which the pool would otherwise keep alive.
func putCanonicalBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		canonicalBufs.Put(b)
	}
}

// checkComplete names every missing part of the signature in one message,
// the way AWS words it.
func checkComplete(a authorization, haveDate bool, authz string) *Error {
	var missing []string
	if a.Credential == "" {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if a.Signature == "" {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if a.SignedHeaders == "" {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if !haveDate {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) == 0 {
		return nil
	}
	return errIncomplete(strings.Join(missing, " ") + " Authorization=" + authz)
}

// requestTime reads the signing time from X-Amz-Date, or from Date when
// there is no X-Amz-Date, as AWS does.
func requestTime(amzDate, httpDate string) (time.Time, *Error) {
	if amzDate != "" {
		t, err := time.Parse(amzDateLayout, amzDate)
		if err != nil || len(amzDate) != len(amzDateLayout) {
			return time.Time{}, errIncomplete(fmt.Sprintf(
				"Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", amzDate))
		}
		return t, nil
	}
	t, err := http.ParseTime(httpDate)
	if err != nil {
		return time.Time{}, errIncomplete(fmt.Sprintf("Date header '%s' is not an HTTP date; send X-Amz-Date instead.", httpDate))
	}
	return t.UTC(), nil
}

func (v *Verifier) checkScope(c credential, signedAt time.Time, stamp string) *Error {
	if day := signedAt.Format(scopeDateLayout); c.Date != day {
		return errInvalid(fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			c.Date, day, stamp))
	}
	if c.Region == "" {
		return errInvalid(fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. ", c.Region))
	}
	if service := v.service(); c.Service != service {
		return errInvalid(fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", service))
	}
	if c.Terminator != scopeTerminator {
		return errInvalid(fmt.Sprintf("Credential should be scoped with a valid terminator: '%s', not '%s'. ", scopeTerminator, c.Terminator))
	}
	return nil
}

// checkSignedHeaders insists on Host, as AWS does, and on X-Amz-Target when
// present: it chooses the operation, and an unsigned one would let anyone
// holding a captured request replay its body against another operation.
// Every AWS client signs both.
func checkSignedHeaders(r *http.Request, signed string) *Error {
	if !hasSignedHeader(signed, "host") {
		return errIncomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if _, ok := r.Header["X-Amz-Target"]; ok && !hasSignedHeader(signed, "x-amz-target") {
		return errIncomplete("'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return nil
}

func (v *Verifier) checkTime(signedAt time.Time) *Error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	skew := v.MaxSkew
	if skew <= 0 {
		skew = 5 * time.Minute
	}
	t := now().UTC()
	if earliest := t.Add(-skew); signedAt.Before(earliest) {
		return errInvalid(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)",
			signedAt.Format(amzDateLayout), earliest.Format(amzDateLayout), t.Format(amzDateLayout), formatSkew(skew)))
	}
	if latest := t.Add(skew); signedAt.After(latest) {
		return errInvalid(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s.)",
			signedAt.Format(amzDateLayout), latest.Format(amzDateLayout), t.Format(amzDateLayout), formatSkew(skew)))
	}
	return nil
}

// formatSkew words the window as AWS does ("5 min"), falling back to Go's
// notation for a window that is not whole minutes.
func formatSkew(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return d.String()
}

func (v *Verifier) service() string {
	if v.Service == "" {
		return "logs"
	}
	return v.Service
}

// signingKey returns HMAC("AWS4"+secret, date, region, service, "aws4_request"),
// from the cache when it can.
func (v *Verifier) signingKey(key Key, c credential) []byte {
	id := signingKeyID{keyID: key.ID, date: c.Date, region: c.Region}
	v.mu.Lock()
	cached, ok := v.keys[id]
	v.mu.Unlock()
	if ok && cached.secret == key.Secret {
		return cached.key
	}
	k := hmacSHA256([]byte("AWS4"+key.Secret), c.Date)
	k = hmacSHA256(k, c.Region)
	k = hmacSHA256(k, c.Service)
	k = hmacSHA256(k, scopeTerminator)
	v.mu.Lock()
	if v.keys == nil || len(v.keys) >= maxCachedSigningKeys {
		v.keys = make(map[signingKeyID]signingKey)
	}
	v.keys[id] = signingKey{secret: key.Secret, key: k}
	v.mu.Unlock()
	return k
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
