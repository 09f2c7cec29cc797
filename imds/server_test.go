package imds

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// clock is a settable clock for token expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func testServer(t *testing.T, role string) (*Server, *httptest.Server, *clock) {
	clk := &clock{t: time.Now()}
	s := &Server{InstanceID: "i-0123456789abcdef0", Region: "eu-west-3", Account: "000000000000", Role: role,
		UserData: []byte("keel.logs.group=keel/dev\n"), Now: clk.Now,
		Credentials: func() (Credentials, error) {
			return Credentials{AccessKeyID: "KEELSESSION000000001", SecretAccessKey: "secret", Token: "tok",
				Expiration: clk.Now().Add(time.Hour), LastUpdated: clk.Now()}, nil
		}}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs, clk
}

// sdkClient is the SDK's own IMDS client, IMDSv1 fallback off (as init
// has it).
func sdkClient(url string) *imds.Client {
	return imds.New(imds.Options{Endpoint: url, EnableFallback: aws.FalseTernary})
}

func status(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// TestSDKClient: the SDK's client gets identity, region, user data and the
// role's credentials (through ec2rolecreds) from the server.
func TestSDKClient(t *testing.T) {
	_, hs, _ := testServer(t, "keel-run")
	ctx := context.Background()
	c := sdkClient(hs.URL)
	get := func(path string) string {
		out, err := c.GetMetadata(ctx, &imds.GetMetadataInput{Path: path})
		if err != nil {
			t.Fatalf("GetMetadata %s: %v", path, err)
		}
		b, _ := io.ReadAll(out.Content)
		return string(b)
	}
	if got := get("instance-id"); got != "i-0123456789abcdef0" {
		t.Errorf("instance-id %q", got)
	}
	if r, err := c.GetRegion(ctx, nil); err != nil || r.Region != "eu-west-3" {
		t.Errorf("GetRegion: %v %v", r, err)
	}
	ud, err := c.GetUserData(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(ud.Content); string(b) != "keel.logs.group=keel/dev\n" {
		t.Errorf("user data %q", b)
	}
	info, err := c.GetIAMInfo(ctx, nil)
	if err != nil || info.InstanceProfileArn != "arn:aws:iam::000000000000:instance-profile/keel-run" {
		t.Errorf("GetIAMInfo: %+v %v", info, err)
	}
	if got := get("iam/security-credentials/"); got != "keel-run" {
		t.Errorf("role list %q", got)
	}
	creds, err := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = c }).Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "KEELSESSION000000001" || creds.SessionToken != "tok" || !creds.CanExpire {
		t.Errorf("credentials %+v", creds)
	}
	// EC2's JSON, field by field.
	var body map[string]string
	if err := json.Unmarshal([]byte(get("iam/security-credentials/keel-run")), &body); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"Code", "LastUpdated", "Type", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"} {
		if body[k] == "" {
			t.Errorf("credentials JSON has no %s: %v", k, body)
		}
	}
	if _, err := c.GetMetadata(ctx, &imds.GetMetadataInput{Path: "iam/security-credentials/other"}); status(err) != 404 {
		t.Errorf("other role: %v, want 404", err)
	}
	if _, err := c.GetMetadata(ctx, &imds.GetMetadataInput{Path: "nothing/here"}); status(err) != 404 {
		t.Errorf("unknown path: %v, want 404", err)
	}
}

// TestNoRole: without an instance profile the role paths are 404, and
// ec2rolecreds fails (init then names the fix).
func TestNoRole(t *testing.T) {
	_, hs, _ := testServer(t, "")
	c := sdkClient(hs.URL)
	_, err := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = c }).Retrieve(context.Background())
	if status(err) != 404 {
		t.Fatalf("Retrieve without a role: %v, want a 404", err)
	}
}

// TestTokenRules: no token 401 (IMDSv1 refused), TTL header required and
// bounded, an expired or unknown token 401.
func TestTokenRules(t *testing.T) {
	_, hs, clk := testServer(t, "r")
	do := func(method, path string, h map[string]string) (int, string) {
		req, _ := http.NewRequest(method, hs.URL+path, nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		name string
		h    map[string]string
		want int
	}{
		{"no TTL", nil, 400},
		{"TTL 0", map[string]string{TokenTTLHeader: "0"}, 400},
		{"TTL 21601", map[string]string{TokenTTLHeader: "21601"}, 400},
		{"TTL not a number", map[string]string{TokenTTLHeader: "ten"}, 400},
		{"through a proxy", map[string]string{TokenTTLHeader: "60", "X-Forwarded-For": "1.2.3.4"}, 403},
		{"TTL 1", map[string]string{TokenTTLHeader: "1"}, 200},
		{"TTL 21600", map[string]string{TokenTTLHeader: "21600"}, 200},
	} {
		if got, _ := do(http.MethodPut, "/latest/api/token", tc.h); got != tc.want {
			t.Errorf("PUT token, %s: %d, want %d", tc.name, got, tc.want)
		}
	}
	if got, _ := do(http.MethodGet, "/latest/api/token", map[string]string{TokenTTLHeader: "60"}); got != 405 {
		t.Errorf("GET token: %d, want 405", got)
	}
	if got, _ := do(http.MethodGet, "/latest/meta-data/instance-id", nil); got != 401 {
		t.Errorf("IMDSv1 request: %d, want 401", got)
	}
	if got, _ := do(http.MethodGet, "/latest/meta-data/instance-id", map[string]string{TokenHeader: "forged"}); got != 401 {
		t.Errorf("unknown token: %d, want 401", got)
	}
	_, tok := do(http.MethodPut, "/latest/api/token", map[string]string{TokenTTLHeader: "5"})
	if got, body := do(http.MethodGet, "/latest/meta-data/instance-id", map[string]string{TokenHeader: tok}); got != 200 || body != "i-0123456789abcdef0" {
		t.Errorf("valid token: %d %q", got, body)
	}
	clk.add(5 * time.Second)
	if got, _ := do(http.MethodGet, "/latest/meta-data/instance-id", map[string]string{TokenHeader: tok}); got != 401 {
		t.Errorf("expired token: %d, want 401", got)
	}
	// The SDK's client renews its token when the server says 401.
	c := sdkClient(hs.URL)
	if _, err := c.GetMetadata(context.Background(), &imds.GetMetadataInput{Path: "instance-id"}); err != nil {
		t.Fatal(err)
	}
	clk.add(7 * time.Hour)
	if _, err := c.GetMetadata(context.Background(), &imds.GetMetadataInput{Path: "instance-id"}); err != nil {
		t.Errorf("after the token expired: %v", err)
	}
}

// TestTokensBounded: a client that takes a token per request does not grow
// the server past maxTokens.
func TestTokensBounded(t *testing.T) {
	s, hs, _ := testServer(t, "r")
	for i := 0; i < maxTokens+10; i++ {
		req, _ := http.NewRequest(http.MethodPut, hs.URL+"/latest/api/token", nil)
		req.Header.Set(TokenTTLHeader, "21600")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	s.mu.Lock()
	n := len(s.tokens)
	s.mu.Unlock()
	if n > maxTokens {
		t.Fatalf("%d tokens held, want at most %d", n, maxTokens)
	}
}
