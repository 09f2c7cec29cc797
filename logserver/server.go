package logserver

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/keelvm/keel/logserver/auth"
	"github.com/keelvm/keel/logserver/store"
)

// targetPrefix is the X-Amz-Target namespace of CloudWatch Logs.
const targetPrefix = "Logs_20140328."

// DefaultMaxBodyBytes bounds a request body. A full PutLogEvents batch is
// 1 MiB of messages, but JSON escaping can grow a message up to six times
// (\u0000), so the bound leaves room for that and nothing more.
const DefaultMaxBodyBytes = 7 << 20

// Config configures a Server.
type Config struct {
	Store *store.Store
	// Keys verifies SigV4 signatures. Nil means -auth=none: every request
	// is accepted as the admin.
	Keys    *auth.Keyring
	Region  string // used in ARNs; default us-east-1
	Account string // used in ARNs; default 000000000000
	// TokenKey authenticates pagination tokens, so that a forged token is
	// refused instead of being read as a position. At least 16 bytes.
	TokenKey     []byte
	Logger       *slog.Logger
	MaxBodyBytes int64
	Now          func() time.Time
	// LiveTailTimeout ends StartLiveTail sessions, as the service does
	// after 3 hours (the default).
	LiveTailTimeout time.Duration
	// MaxLiveTails bounds the StartLiveTail sessions open at once, as the
	// service's quota does (15, the default): each may buffer up to
	// maxTailPendingBytes for a slow reader.
	MaxLiveTails int
	// QueryTimeout ends a Logs Insights query with status Timeout, as the
	// service does after 60 minutes (the default).
	QueryTimeout time.Duration
	// Quotas are the per-account request quotas (quota.go); the zero
	// value enforces the service's defaults.
	Quotas Quotas
}

// Server serves the CloudWatch Logs API over HTTP.
type Server struct {
	cfg      Config
	store    *store.Store
	verifier *auth.Verifier
	tokens   tokenCodec
	log      *slog.Logger
	ops      map[string]handler
	tails    tailHub
	unsub    func()
	tagMu    sync.Mutex
	quotas   quotaSet

	queries     *queryHub // Logs Insights queries; see insights.go
	queriesOnce sync.Once

	// closing is closed by Close (and at the start of Run's graceful
	// shutdown) to end live tail sessions, which would otherwise outlast
	// any shutdown grace period.
	closing   chan struct{}
	closeOnce sync.Once
}

// call is one request on its way through an operation handler.
type call struct {
	op   string
	body []byte
	key  auth.Key
	r    *http.Request
}

type handler func(c *call) (any, *apiError)

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("logserver: Config.Store is required")
	}
	if len(cfg.TokenKey) < 16 {
		return nil, errors.New("logserver: Config.TokenKey must hold at least 16 bytes")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Account == "" {
		cfg.Account = "000000000000"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LiveTailTimeout == 0 {
		cfg.LiveTailTimeout = 3 * time.Hour
	}
	if cfg.MaxLiveTails == 0 {
		cfg.MaxLiveTails = 15
	}
	s := &Server{cfg: cfg, store: cfg.Store, log: cfg.Logger, tokens: tokenCodec{key: cfg.TokenKey}, closing: make(chan struct{})}
	s.unsub = cfg.Store.Subscribe(s.tails.publish)
	s.quotas = newQuotaSet(cfg.Quotas, cfg.Region)
	if cfg.Keys != nil {
		s.verifier = &auth.Verifier{Keys: cfg.Keys, Now: cfg.Now}
	}
	s.ops = map[string]handler{
		"CreateLogGroup":        s.createLogGroup,
		"DeleteLogGroup":        s.deleteLogGroup,
		"DescribeLogGroups":     s.describeLogGroups,
		"CreateLogStream":       s.createLogStream,
		"DeleteLogStream":       s.deleteLogStream,
		"DescribeLogStreams":    s.describeLogStreams,
		"PutLogEvents":          s.putLogEvents,
		"GetLogEvents":          s.getLogEvents,
		"FilterLogEvents":       s.filterLogEvents,
		"PutRetentionPolicy":    s.putRetentionPolicy,
		"DeleteRetentionPolicy": s.deleteRetentionPolicy,
		"TagLogGroup":           s.tagLogGroup,
		"UntagLogGroup":         s.untagLogGroup,
		"ListTagsLogGroup":      s.listTagsLogGroup,
		"TagResource":           s.tagResource,
		"UntagResource":         s.untagResource,
		"ListTagsForResource":   s.listTagsForResource,
	}
	for op, h := range s.insightsOps() {
		s.ops[op] = h
	}
	return s, nil
}

// Close detaches the server from the store's write path and ends its live
// tail sessions.
func (s *Server) Close() {
	s.endLiveTails()
	s.stopQueries()
	s.unsub()
}

// endLiveTails tells every live tail session, running or starting, to end.
func (s *Server) endLiveTails() { s.closeOnce.Do(func() { close(s.closing) }) }

// Operations lists the supported operation names, sorted.
func (s *Server) Operations() []string {
	names := make([]string, 0, len(s.ops)+1)
	names = append(names, "StartLiveTail")
	for n := range s.ops {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := newRequestID()
	h := w.Header()
	h.Set("x-amzn-RequestId", reqID)
	h.Set("Date", start.UTC().Format(http.TimeFormat))

	if r.Method == http.MethodGet && (r.URL.Path == "/health" || r.URL.Path == "/") {
		h.Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"service\":\"keel logserver\",\"status\":\"ok\"}\n")
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	status, code, keyName, inBytes, outBytes := s.serve(w, r, op)
	attrs := []any{
		"op", op, "status", status, "ms", float64(time.Since(start).Microseconds()) / 1000,
		"in", inBytes, "out", outBytes, "key", keyName, "remote", r.RemoteAddr, "request_id", reqID,
	}
	if code != "" {
		attrs = append(attrs, "error", code)
		s.log.Warn("request", attrs...)
		return
	}
	s.log.Info("request", attrs...)
}

// serve runs one API request and returns what the request log records.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, op string) (status int, code, keyName string, in, out int) {
	fail := func(e *apiError) (int, string, string, int, int) {
		n := writeError(w, e)
		return e.Status, e.Code, keyName, in, n
	}
	if r.Method != http.MethodPost {
		return fail(&apiError{Status: http.StatusMethodNotAllowed, Code: "UnknownOperationException",
			Message: "keel's log server speaks the CloudWatch Logs JSON protocol: send POST / with an X-Amz-Target header"})
	}
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return fail(tooLarge(r.ContentLength, s.cfg.MaxBodyBytes))
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes), r.ContentLength)
	in = len(body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return fail(tooLarge(-1, s.cfg.MaxBodyBytes))
		}
		return fail(errSerialization("Cannot read the request body: %v", err))
	}
	key := auth.Key{Name: "anonymous"}
	if s.verifier != nil {
		k, aerr := s.verifier.Verify(r, body)
		if aerr != nil {
			return fail(&apiError{Status: aerr.Status, Code: aerr.Code, Message: aerr.Message})
		}
		key = k
	}
	keyName = key.Name
	if aerr := s.overQuota(r, op); aerr != nil {
		return fail(aerr)
	}
	if op == "StartLiveTail" && r.Header.Get("X-Amz-Target") == targetPrefix+op {
		status, aerr := s.startLiveTail(w, &call{op: op, body: body, key: key, r: r})
		if aerr != nil {
			return fail(aerr)
		}
		return status, "", keyName, in, 0
	}
	h, ok := s.ops[op]
	if !ok || !strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPrefix) {
		return fail(&apiError{Status: http.StatusBadRequest, Code: "UnknownOperationException",
			Message: fmt.Sprintf("Unknown operation %q (X-Amz-Target %q): keel's log server supports %s",
				op, r.Header.Get("X-Amz-Target"), strings.Join(s.Operations(), ", "))})
	}
	result, aerr := s.run(h, &call{op: op, body: body, key: key, r: r})
	if aerr != nil {
		return fail(aerr)
	}
	if result == nil {
		result = struct{}{}
	}
	buf, err := json.Marshal(result)
	if err != nil {
		return fail(errInternal("encode response: " + err.Error()))
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(buf)))
	w.WriteHeader(http.StatusOK)
	n, _ := w.Write(buf)
	return http.StatusOK, "", keyName, in, n
}

// run calls an operation handler and turns a panic into a 500, so that no
// request, however malformed, takes the server down.
func (s *Server) run(h handler, c *call) (result any, aerr *apiError) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in operation handler", "op", c.op, "panic", fmt.Sprint(p))
			result, aerr = nil, errInternal("internal error while handling "+c.op)
		}
	}()
	return h(c)
}

func tooLarge(n, max int64) *apiError {
	size := "The request body"
	if n >= 0 {
		size = fmt.Sprintf("The request body of %d bytes", n)
	}
	return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "RequestEntityTooLargeException",
		Message: fmt.Sprintf("%s exceeds the server's limit of %d bytes; send smaller batches (PutLogEvents allows 1,048,576 bytes of events)", size, max)}
}

func writeError(w http.ResponseWriter, e *apiError) int {
	body := map[string]any{"__type": e.Code, "message": e.Message}
	for k, v := range e.Extra {
		body[k] = v
	}
	buf, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-ErrorType", e.Code)
	h.Set("Content-Length", strconv.Itoa(len(buf)))
	w.WriteHeader(e.Status)
	n, _ := w.Write(buf)
	return n
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// authorize checks the caller's key against an action on a group or stream.
func (s *Server) authorize(c *call, group, stream string) *apiError {
	if s.verifier == nil {
		return nil
	}
	if e := auth.Authorize(c.key, c.op, group, stream, s.cfg.Account, s.cfg.Region); e != nil {
		return &apiError{Status: e.Status, Code: e.Code, Message: e.Message}
	}
	return nil
}

// storeError maps a storage error to the error AWS would send.
func storeError(err error) *apiError {
	switch {
	case errors.Is(err, store.ErrGroupNotFound):
		return errResourceNotFound(msgGroupNotFound)
	case errors.Is(err, store.ErrStreamNotFound):
		return errResourceNotFound(msgStreamNotFound)
	case errors.Is(err, store.ErrGroupExists):
		return errAlreadyExists(msgGroupExists)
	case errors.Is(err, store.ErrStreamExists):
		return errAlreadyExists(msgStreamExists)
	case isDiskFull(err):
		return errServiceUnavailable("The log server's disk is full; nothing in this request was stored. Free space under the server's data directory and retry.")
	}
	return errServiceUnavailable("The log server could not complete the request: " + err.Error())
}

func (s *Server) nowMs() int64 { return s.cfg.Now().UnixMilli() }

func (s *Server) groupARN(name string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", s.cfg.Region, s.cfg.Account, name)
}

// readBody reads a request body of the given Content-Length (-1: unknown).
// Its buffer grows as the bytes come, from 64 KiB by doubling, up to that
// length exactly: io.ReadAll doubles from 512 bytes, a dozen copies for a 1
// MiB PutLogEvents body, and allocating the announced length at once would
// let a client that sends nothing (no signature is checked before the
// body is read) hold megabytes per connection.
func readBody(r io.Reader, length int64) ([]byte, error) {
	if length <= 0 {
		return io.ReadAll(r)
	}
	buf := make([]byte, 0, min(length, 64<<10))
	for int64(len(buf)) < length {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(length, 2*int64(cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF && int64(len(buf)) < length {
			return buf, fmt.Errorf("body ended after %d of its %d bytes (Content-Length): %w", len(buf), length, io.ErrUnexpectedEOF)
		}
		if err != nil && err != io.EOF {
			return buf, err
		}
	}
	return buf, nil
}
