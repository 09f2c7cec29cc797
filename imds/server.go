package imds

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The headers of IMDSv2.
const (
	TokenHeader    = "X-aws-ec2-metadata-token"
	TokenTTLHeader = "X-aws-ec2-metadata-token-ttl-seconds"
)

// MaxTokenTTL is the longest a token may live, as on EC2: six hours.
const MaxTokenTTL = 21600

// maxTokens bounds the tokens held at once: a guest that asks for a token
// per request (as a naive client does) must not grow the server without
// end. Past it the oldest-expiring go first.
const maxTokens = 4096

// Credentials are an instance role's temporary credentials as IMDS gives
// them.
type Credentials struct {
	AccessKeyID, SecretAccessKey, Token string
	Expiration, LastUpdated             time.Time
}

// ErrNoRole is what Server.Credentials returns when the instance has no
// instance profile: the role paths answer 404 then, as EC2's do.
var ErrNoRole = errors.New("no instance profile")

// Server serves IMDSv2. Set the fields before serving; they are read only.
type Server struct {
	InstanceID string
	Region     string // placement/region; availability zone is REGION + "a"
	Account    string // for iam/info's instance profile ARN
	// Role is the instance role's name; empty: no instance profile.
	Role string
	// Credentials returns the role's current credentials: called per
	// request, so that a rotation shows at once.
	Credentials func() (Credentials, error)
	// UserData is /latest/user-data; nil: 404, as for an instance
	// launched without.
	UserData []byte
	// Now is the clock; nil: time.Now.
	Now func() time.Time

	mu     sync.Mutex
	tokens map[string]time.Time // token -> expiry
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Server", "EC2ws")
	if r.URL.Path == "/latest/api/token" {
		s.token(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if !s.validToken(r.Header.Get(TokenHeader)) {
		// IMDSv1 (no token) and an expired or unknown token alike: an
		// instance with HttpTokens=required answers 401.
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	body, ctype, ok := s.lookup(r.URL.Path)
	if !ok {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

// token issues a session token: PUT only, with a TTL header of 1 to
// 21600 seconds; a request that went through a proxy (X-Forwarded-For) is
// refused, as EC2 refuses it.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		w.Header().Set("Allow", "PUT")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.Header.Get("X-Forwarded-For") != "" {
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	ttl, err := strconv.Atoi(strings.TrimSpace(r.Header.Get(TokenTTLHeader)))
	if err != nil || ttl < 1 || ttl > MaxTokenTTL {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	b := make([]byte, 42)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	s.mu.Lock()
	if s.tokens == nil {
		s.tokens = map[string]time.Time{}
	}
	s.pruneLocked(now)
	s.tokens[tok] = now.Add(time.Duration(ttl) * time.Second)
	s.mu.Unlock()
	w.Header().Set(TokenTTLHeader, strconv.Itoa(ttl))
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte(tok))
}

// pruneLocked drops expired tokens, and the soonest-expiring ones past
// maxTokens.
func (s *Server) pruneLocked(now time.Time) {
	for t, exp := range s.tokens {
		if !now.Before(exp) {
			delete(s.tokens, t)
		}
	}
	for len(s.tokens) >= maxTokens {
		var oldest string
		var at time.Time
		for t, exp := range s.tokens {
			if oldest == "" || exp.Before(at) {
				oldest, at = t, exp
			}
		}
		delete(s.tokens, oldest)
	}
}

func (s *Server) validToken(tok string) bool {
	if tok == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && s.now().Before(exp)
}

const (
	textPlain = "text/plain"
	credsPath = "/latest/meta-data/iam/security-credentials/"
)

// lookup returns what a metadata path holds.
func (s *Server) lookup(path string) ([]byte, string, bool) {
	switch path {
	case "/latest/meta-data/instance-id":
		return []byte(s.InstanceID), textPlain, s.InstanceID != ""
	case "/latest/meta-data/placement/region":
		return []byte(s.Region), textPlain, s.Region != ""
	case "/latest/meta-data/placement/availability-zone":
		return []byte(s.Region + "a"), textPlain, s.Region != ""
	case "/latest/dynamic/instance-identity/document":
		// What the SDK's GetRegion reads.
		if s.InstanceID == "" || s.Region == "" {
			return nil, "", false
		}
		b, _ := json.MarshalIndent(map[string]string{"instanceId": s.InstanceID, "region": s.Region,
			"availabilityZone": s.Region + "a", "accountId": s.Account, "architecture": "x86_64",
			"instanceType": "keel.run", "imageId": "ami-keel0000000000000", "pendingTime": s.now().UTC().Format(time.RFC3339),
			"version": "2017-09-30"}, "", "  ")
		return b, "application/json", true
	case "/latest/user-data":
		return s.UserData, "application/octet-stream", s.UserData != nil
	case "/latest/meta-data/iam/info":
		if s.Role == "" {
			return nil, "", false
		}
		return s.iamInfo(), textPlain, true
	case credsPath, strings.TrimSuffix(credsPath, "/"):
		if s.Role == "" {
			return nil, "", false
		}
		return []byte(s.Role), textPlain, true
	}
	if name, ok := strings.CutPrefix(path, credsPath); ok && s.Role != "" && name == s.Role {
		return s.roleCredentials()
	}
	return nil, "", false
}

func (s *Server) iamInfo() []byte {
	b, _ := json.MarshalIndent(map[string]string{
		"Code":               "Success",
		"LastUpdated":        s.now().UTC().Format(time.RFC3339),
		"InstanceProfileArn": "arn:aws:iam::" + s.Account + ":instance-profile/" + s.Role,
		"InstanceProfileId":  "AIPAKEELLOCALPROFILE", // keel run's one profile
	}, "", "  ")
	return b
}

// roleCredentials is EC2's JSON for the role's credentials.
func (s *Server) roleCredentials() ([]byte, string, bool) {
	if s.Credentials == nil {
		return nil, "", false
	}
	c, err := s.Credentials()
	if errors.Is(err, ErrNoRole) {
		return nil, "", false
	}
	if err != nil {
		// EC2 says what went wrong in the Code field with status 200;
		// ec2rolecreds reports a Code that is not Success as an error.
		b, _ := json.MarshalIndent(map[string]string{"Code": "Failure", "Message": err.Error(),
			"LastUpdated": s.now().UTC().Format(time.RFC3339)}, "", "  ")
		return b, textPlain, true
	}
	b, _ := json.MarshalIndent(struct {
		Code, LastUpdated, Type, AccessKeyId, SecretAccessKey, Token, Expiration string
	}{"Success", c.LastUpdated.UTC().Format(time.RFC3339), "AWS-HMAC", c.AccessKeyID, c.SecretAccessKey, c.Token,
		c.Expiration.UTC().Format(time.RFC3339)}, "", "  ")
	return b, textPlain, true
}
