package testutil

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// Answers is a slog.Handler for the local log server's request log
// (logserver.RunConfig.Logger) that counts its answers per operation and
// error code: the record "request" with the attributes "op" and "error"
// ("" is success). Tests of throttling read from it what the server said,
// not what the client made of it.
type Answers struct {
	mu sync.Mutex
	n  map[string]int // "op code"
}

func (a *Answers) Enabled(context.Context, slog.Level) bool { return true }
func (a *Answers) WithAttrs([]slog.Attr) slog.Handler       { return a }
func (a *Answers) WithGroup(string) slog.Handler            { return a }

// Handle counts one request record; other records are ignored.
func (a *Answers) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "request" {
		return nil
	}
	var op, code string
	r.Attrs(func(at slog.Attr) bool {
		switch at.Key {
		case "op":
			op = at.Value.String()
		case "error":
			code = at.Value.String()
		}
		return true
	})
	a.mu.Lock()
	if a.n == nil {
		a.n = map[string]int{}
	}
	a.n[op+" "+code]++
	a.mu.Unlock()
	return nil
}

// Count is the answers to op with code; code "*" counts them all.
func (a *Answers) Count(op, code string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for k, v := range a.n {
		if k == op+" "+code || code == "*" && strings.HasPrefix(k, op+" ") {
			n += v
		}
	}
	return n
}
