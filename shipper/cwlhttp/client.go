package cwlhttp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Options configure a Client. Region and Credentials are required.
type Options struct {
	Region      string
	Credentials aws.CredentialsProvider
	// Endpoint is the service's URL; "" is the Region's public endpoint
	// (Endpoint(Region)).
	Endpoint string
	// HTTPClient sends the requests; nil: a client of its own (keep-alive,
	// proxies from the environment, as net/http's default transport).
	HTTPClient *http.Client
}

// Client calls CloudWatch Logs. It is safe for concurrent use.
type Client struct {
	url    string
	region string
	creds  aws.CredentialsProvider
	signer *v4.Signer
	http   *http.Client
}

// Endpoint is the public endpoint of CloudWatch Logs in region, in the
// partition the region's name says (aws, aws-cn, aws-us-gov).
func Endpoint(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return "https://logs." + region + ".amazonaws.com.cn"
	}
	return "https://logs." + region + ".amazonaws.com"
}

// New makes a Client.
func New(o Options) (*Client, error) {
	if o.Region == "" {
		return nil, errors.New("cloudwatch logs client: no region: set one in the configuration")
	}
	if o.Credentials == nil {
		return nil, errors.New("cloudwatch logs client: no credentials provider")
	}
	ep := o.Endpoint
	if ep == "" {
		ep = Endpoint(o.Region)
	}
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("cloudwatch logs endpoint %q: want http(s)://host[:port]", ep)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	hc := o.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 16 // a shipper has up to InFlight requests at once, and several shippers share a client
		hc = &http.Client{Transport: tr}
	}
	return &Client{url: u.String(), region: o.Region, creds: o.Credentials, signer: v4.NewSigner(), http: hc}, nil
}

// Rejected is PutLogEvents' rejectedLogEventsInfo: the events of an
// accepted request that the service dropped, by index. Nil fields: none.
type Rejected struct {
	TooNewLogEventStartIndex *int32 `json:"tooNewLogEventStartIndex"`
	TooOldLogEventEndIndex   *int32 `json:"tooOldLogEventEndIndex"`
	ExpiredLogEventEndIndex  *int32 `json:"expiredLogEventEndIndex"`
}

// PutResult is what an accepted PutLogEvents answers.
type PutResult struct {
	Rejected *Rejected // nil: every event was taken
}

// PutLogEvents sends body, a complete PutLogEvents request for group and
// stream written by the caller (the JSON the SDK would have sent).
func (c *Client) PutLogEvents(ctx context.Context, group, stream string, body []byte) (*PutResult, error) {
	resp, err := c.call(ctx, "PutLogEvents", body)
	if err != nil {
		return nil, err // the shipper names the group and stream
	}
	var out struct {
		Rejected *Rejected `json:"rejectedLogEventsInfo"`
	}
	if len(bytes.TrimSpace(resp)) > 0 {
		if err := json.Unmarshal(resp, &out); err != nil {
			return nil, fmt.Errorf("put log events to %s/%s: decode the answer: %w", group, stream, err)
		}
	}
	return &PutResult{Rejected: out.Rejected}, nil
}

// CreateLogGroup creates group.
func (c *Client) CreateLogGroup(ctx context.Context, group string) error {
	_, err := c.call(ctx, "CreateLogGroup", marshal(map[string]any{"logGroupName": group}))
	return err
}

// CreateLogStream creates stream in group.
func (c *Client) CreateLogStream(ctx context.Context, group, stream string) error {
	_, err := c.call(ctx, "CreateLogStream", marshal(map[string]any{"logGroupName": group, "logStreamName": stream}))
	return err
}

// PutRetentionPolicy sets group's retention.
func (c *Client) PutRetentionPolicy(ctx context.Context, group string, days int32) error {
	_, err := c.call(ctx, "PutRetentionPolicy", marshal(map[string]any{"logGroupName": group, "retentionInDays": days}))
	return err
}

func marshal(v map[string]any) []byte {
	b, _ := json.Marshal(v) // strings and numbers: cannot fail
	return b
}

// maxAnswer bounds the answer read: the service's are small.
const maxAnswer = 1 << 20

// call makes one signed request of op and returns the answer's body, or
// an *APIError for an answer that is not 2xx.
func (c *Client) call(ctx context.Context, op string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: build the request to %s: %w", op, c.url, err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Logs_20140328."+op)
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		// "retrieve credentials" is how the SDK's clients say it too.
		return nil, fmt.Errorf("%s: retrieve credentials: %w", op, err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "logs", c.region, time.Now().UTC()); err != nil {
		return nil, fmt.Errorf("%s: sign the request: %w", op, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	ans, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("%s: read the answer from %s: %w", op, c.url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, decodeError(op, resp.StatusCode, resp.Header, ans)
	}
	return ans, nil
}
