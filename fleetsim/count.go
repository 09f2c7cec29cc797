package fleetsim

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// requestCounter is the server's request log, read as it is written: it
// counts PutLogEvents and CreateLogStream answers, and PutLogEvents
// accepted per second, as the server saw them (by the second they came).
type requestCounter struct {
	mu        sync.Mutex
	on        bool
	start     time.Time
	perSecond map[int64]int
	thrPerS   map[int64]int
	put       map[string]int // by error code; "" is 200
	create    map[string]int
}

func (c *requestCounter) begin(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on, c.start = true, t
	c.perSecond, c.thrPerS, c.put, c.create = map[int64]int{}, map[int64]int{}, map[string]int{}, map[string]int{}
}

func (c *requestCounter) end() {
	c.mu.Lock()
	c.on = false
	c.mu.Unlock()
}

func (c *requestCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *requestCounter) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *requestCounter) WithGroup(string) slog.Handler            { return c }

func (c *requestCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "request" {
		return nil
	}
	var op, code string
	var took time.Duration
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "op":
			op = a.Value.String()
		case "error":
			code = a.Value.String()
		case "ms":
			took = time.Duration(a.Value.Float64() * float64(time.Millisecond))
		}
		return true
	})
	if op != "PutLogEvents" && op != "CreateLogStream" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return nil
	}
	if op == "CreateLogStream" {
		c.create[code]++
		return nil
	}
	c.put[code]++
	// Counted when the request came, where the server took its token,
	// not when it was answered: a server stalled for a second (this
	// machine is shared) answers a second's requests in the next.
	sec := int64(r.Time.Add(-took).Sub(c.start) / time.Second)
	switch code {
	case "":
		c.perSecond[sec]++
	case "ThrottlingException":
		c.thrPerS[sec]++
	}
	return nil
}

func (c *requestCounter) result(res *Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for code, n := range c.put {
		switch code {
		case "":
			res.PutAccepted += n
		case "ThrottlingException":
			res.PutThrottled += n
		default:
			res.PutOther += n
			if res.PutOtherCodes == nil {
				res.PutOtherCodes = map[string]int{}
			}
			res.PutOtherCodes[code] += n
		}
	}
	res.CreateOK, res.CreateExists = c.create[""], c.create["ResourceAlreadyExistsException"]
	res.CreateThrottled = c.create["ThrottlingException"]
	for sec, n := range c.perSecond {
		res.PutPeakPerS = max(res.PutPeakPerS, float64(n))
		for int64(len(res.PutPerSecond)) <= sec {
			res.PutPerSecond = append(res.PutPerSecond, [2]int{})
		}
		res.PutPerSecond[sec][0] = n
	}
	for sec, n := range c.thrPerS {
		for int64(len(res.PutPerSecond)) <= sec {
			res.PutPerSecond = append(res.PutPerSecond, [2]int{})
		}
		res.PutPerSecond[sec][1] = n
	}
}
