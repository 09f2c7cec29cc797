package shipper

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keelvm/keel/internal/cwlname"
	"github.com/keelvm/keel/shipper/cwlhttp"
	"github.com/keelvm/keel/shipper/redact"
)

// API is the CloudWatch Logs transport the shipper uses: *cwlhttp.Client
// (its own signed HTTP, what the init links), or the SDK's client through
// cwlsdk.Wrap (keel ship, tests' fakes). Errors of the service satisfy
// smithy-go's APIError (ErrorCode); PutLogEvents takes the request body
// the shipper wrote. Implementations make one attempt per call: the
// shipper retries.
type API interface {
	PutLogEvents(ctx context.Context, group, stream string, body []byte) (*cwlhttp.PutResult, error)
	CreateLogGroup(ctx context.Context, group string) error
	CreateLogStream(ctx context.Context, group, stream string) error
	PutRetentionPolicy(ctx context.Context, group string, days int32) error
}

// Formats of the message of an event.
const (
	FormatJSON = "json" // {"instance","image","level","message","source"}; JSON lines keep their keys
	FormatText = "text" // the line as it is
)

// Service limits (docs/cloudwatch-logs.md).
const (
	eventOverhead  = 26
	maxBatchBytes  = 1_048_576
	maxBatchEvents = 10_000
	maxSpan        = 24 * time.Hour
	maxAge         = 14 * 24 * time.Hour
	maxFuture      = 2 * time.Hour
	// MaxEventLimit is the largest event size limit a Shipper takes: the
	// service's since April 2025 (1 MiB with its 26 bytes of overhead),
	// which is also what one request holds.
	MaxEventLimit = maxBatchBytes - eventOverhead
	// DefaultMaxEvent is the service's limit. Endpoints that still keep
	// the old 256 KiB limit need MaxEventBytes = 262_144 - 26.
	DefaultMaxEvent = MaxEventLimit
)

// Config configures a Shipper. Client, Group and Stream are required; every
// other field has a default.
type Config struct {
	Client API
	Group  string
	Stream string

	Format   string // FormatJSON (default) or FormatText
	Instance string // "instance" of json events
	Image    string // "image" of json events

	// RetentionDays is set on the group when the shipper creates it (0: never expire).
	RetentionDays int32
	// MaxEventBytes is the largest message of one event; longer lines are
	// split into marked parts. Default DefaultMaxEvent.
	MaxEventBytes int
	// Multiline groups the lines of a stack trace into one event: "auto"
	// (the default, also ""), recognising the traces of Java, Python, Go,
	// Node.js and Ruby; "off"; or a regular expression that matches the
	// first line of an event (lines that do not match join the event
	// before them). See multiline.go and README.
	Multiline string
	// MultilineWait is how long a group waits for its next line before
	// it is an event. Default half the Linger; at most the Linger.
	MultilineWait time.Duration
	// BufferBytes bounds the events held in memory, sent or not yet
	// acknowledged (message bytes + 26 per event). Default 32 MiB.
	BufferBytes int
	// Linger is how long a batch that is not full waits for more events. Default 200 ms.
	Linger time.Duration
	// MaxLinger bounds the linger while the service throttles (throttle.go):
	// it doubles on each throttled request up to this and decays back to
	// Linger. Default 5 s.
	MaxLinger time.Duration
	// InFlight is the number of PutLogEvents requests at once. Default 4.
	InFlight int
	// RequestTimeout bounds one request. Default 30 s.
	RequestTimeout time.Duration
	// RetryBase and RetryMax shape the backoff between attempts (defaults 100 ms, 5 s);
	// credentials errors back off from RetryMax up to 12 times RetryMax.
	RetryBase, RetryMax time.Duration

	// Redactor rewrites messages before they are formatted; nil: redact.Default().
	Redactor *redact.Redactor
	// Notice receives the shipper's own reports (outages, drops, rejections),
	// at most once per episode. Nil discards them.
	Notice func(string)
	// RefreshCredentials, if set, is called when the service answers
	// ExpiredTokenException: it drops the client's cached credentials, so
	// that the request, resent at once, is signed with fresh ones.
	RefreshCredentials func()
	// Now is the clock; nil: time.Now. Tests set it.
	Now func() time.Time
}

func (c *Config) setDefaults() error {
	if c.Client == nil || c.Group == "" || c.Stream == "" {
		return errors.New("shipper: Client, Group and Stream are required")
	}
	// A bad name would have every request refused, each batch split down
	// to single events before giving up.
	if err := cwlname.Group(c.Group); err != nil {
		return fmt.Errorf("shipper: log group %q: %w", c.Group, err)
	}
	if err := cwlname.Stream(c.Stream); err != nil {
		return fmt.Errorf("shipper: log stream %q: %w", c.Stream, err)
	}
	switch c.Format {
	case "":
		c.Format = FormatJSON
	case FormatJSON, FormatText:
	default:
		return fmt.Errorf("shipper: format %q: use json or text", c.Format)
	}
	if c.MaxEventBytes == 0 {
		c.MaxEventBytes = DefaultMaxEvent
	}
	if c.MaxEventBytes < 256 || c.MaxEventBytes > MaxEventLimit {
		return fmt.Errorf("shipper: event size limit %d: want 256 to %d bytes", c.MaxEventBytes, MaxEventLimit)
	}
	if c.BufferBytes <= 0 {
		c.BufferBytes = 32 << 20
	}
	if c.Linger <= 0 {
		c.Linger = 200 * time.Millisecond
	}
	if c.MultilineWait <= 0 || c.MultilineWait > c.Linger {
		c.MultilineWait = min(c.Linger, max(c.MultilineWait, c.Linger/2))
	}
	if c.MaxLinger <= 0 {
		c.MaxLinger = 5 * time.Second
	}
	c.MaxLinger = max(c.MaxLinger, c.Linger)
	if c.InFlight <= 0 {
		c.InFlight = 4
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 100 * time.Millisecond
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 5 * time.Second
	}
	if c.Redactor == nil {
		c.Redactor = redact.Default()
	}
	if c.Notice == nil {
		c.Notice = func(string) {}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}
