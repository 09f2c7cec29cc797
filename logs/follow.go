package logs

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
)

const (
	// dedupWindow is how far back overlapping reads may reach.
	dedupWindow = 10 * time.Minute
	// catchUp is how far before the newest event a read after a reconnect
	// starts, for events that arrive late with older timestamps.
	catchUp = time.Minute
	// pollMin and pollMax bound the adaptive polling interval: fast while
	// events flow, backing off while idle.
	pollMin = 500 * time.Millisecond
	pollMax = 2 * time.Second
)

// Follow delivers the events from since on, then every new event until ctx
// ends, through StartLiveTail where the endpoint has it and FilterLogEvents
// polling where it does not, or where live tail samples (above 500 events
// a second). It returns nil when ctx ends.
func (s *Source) Follow(ctx context.Context, since time.Time, fn func(Event) error) error {
	d := newDedup(dedupWindow.Milliseconds())
	arn, err := s.groupARN(ctx)
	if err != nil {
		return err
	}
	from := ms(since)
	backoff := 250 * time.Millisecond
	lostConns := 0
	for {
		live, err := s.startLive(ctx, arn)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			switch {
			case fatal(err):
				return s.explain(err)
			case transient(err) && lostConns < maxLostStarts:
				// A connection lost while starting says nothing about
				// whether the endpoint has live tail: try again.
				lostConns++
				s.notice("live tail start interrupted (%v); retrying", short(err))
				if !sleep(ctx, backoff) {
					return nil
				}
				continue
			}
			if denied(err) {
				s.notice("these credentials may not use live tail (%v); polling FilterLogEvents instead", short(err))
			} else {
				s.notice("live tail is not available from this endpoint (%v); polling FilterLogEvents instead", short(err))
			}
			return s.poll(ctx, d, from, fn)
		}
		lostConns = 0
		// The session buffers what arrives while history is read, so
		// nothing falls between the two; dedup drops the overlap.
		newest, err := s.read(ctx, from, 0, d.pass(), fn)
		if err == nil {
			err = live.deliver(ctx, d.pass(), fn)
		}
		live.close()
		if ctx.Err() != nil {
			return nil
		}
		var ue *userError
		if errors.As(err, &ue) {
			return ue.err
		}
		if errors.Is(err, errSampled) {
			// Live tail shows at most 500 events a second, a sample
			// beyond: polling shows them all, in order, from just
			// before the last one shown.
			s.notice("more events than live tail shows (it samples above 500 a second); polling FilterLogEvents instead, which shows every one")
			return s.poll(ctx, d, from, fn)
		}
		if fatal(err) {
			return s.explain(err)
		}
		s.notice("live tail interrupted (%v); reconnecting", short(err))
		if d.newest > 0 {
			from = d.newest - catchUp.Milliseconds()
		} else if newest > 0 {
			from = newest - catchUp.Milliseconds()
		}
		if !sleep(ctx, backoff) {
			return nil
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// userError carries an error from the caller's fn, which ends the follow.
type userError struct{ err error }

func (e *userError) Error() string { return e.err.Error() }

// liveSession pumps a StartLiveTail event stream into a queue at once, so a
// slow history read never stalls the server's writes to us.
type liveSession struct {
	group  string
	stream *cwl.StartLiveTailEventStream

	mu      sync.Mutex
	queue   []Event
	err     error
	done    bool
	sampled bool // an update was a sample: the session no longer shows everything
	wake    chan struct{}
}

// errSampled ends a live session whose updates became samples.
var errSampled = errors.New("live tail is sampling")

func (s *Source) startLive(ctx context.Context, arn string) (*liveSession, error) {
	in := &cwl.StartLiveTailInput{LogGroupIdentifiers: []string{arn}}
	if len(s.Streams) > 0 {
		in.LogStreamNames = s.Streams
	} else if s.StreamPrefix != "" {
		in.LogStreamNamePrefixes = []string{s.StreamPrefix}
	}
	if s.Pattern != "" {
		in.LogEventFilterPattern = aws.String(s.Pattern)
	}
	out, err := s.Client.StartLiveTail(ctx, in)
	if err != nil {
		return nil, err
	}
	ls := &liveSession{group: s.Group, stream: out.GetStream(), wake: make(chan struct{}, 1)}
	// The first frame tells whether the endpoint really speaks live tail.
	select {
	case ev, ok := <-ls.stream.Events():
		if !ok {
			err := ls.stream.Err()
			ls.stream.Close()
			if err == nil {
				err = errors.New("the live tail stream ended before it started")
			}
			return nil, err
		}
		ls.add(ev)
	case <-time.After(10 * time.Second):
		ls.stream.Close()
		return nil, errors.New("no sessionStart within 10 s")
	case <-ctx.Done():
		ls.stream.Close()
		return nil, ctx.Err()
	}
	go ls.pump()
	return ls, nil
}

func (ls *liveSession) add(ev types.StartLiveTailResponseStream) {
	u, ok := ev.(*types.StartLiveTailResponseStreamMemberSessionUpdate)
	if !ok {
		return
	}
	ls.mu.Lock()
	if m := u.Value.SessionMetadata; m != nil && m.Sampled || ls.sampled {
		// Neither this sample nor what follows: the follower polls from
		// the last event shown, so that order is kept.
		ls.sampled = true
		ls.mu.Unlock()
		ls.signal()
		return
	}
	for _, r := range u.Value.SessionResults {
		ls.queue = append(ls.queue, Event{Group: ls.group, Stream: aws.ToString(r.LogStreamName), Timestamp: aws.ToInt64(r.Timestamp),
			IngestionTime: aws.ToInt64(r.IngestionTime), Message: aws.ToString(r.Message)})
	}
	ls.mu.Unlock()
	ls.signal()
}

func (ls *liveSession) signal() {
	select {
	case ls.wake <- struct{}{}:
	default:
	}
}

func (ls *liveSession) pump() {
	for ev := range ls.stream.Events() {
		ls.add(ev)
	}
	ls.mu.Lock()
	ls.err, ls.done = ls.stream.Err(), true
	if ls.err == nil {
		ls.err = errors.New("the live tail session ended")
	}
	ls.mu.Unlock()
	ls.signal()
}

// deliver hands queued events to fn until the session ends.
func (ls *liveSession) deliver(ctx context.Context, p *pass, fn func(Event) error) error {
	for {
		ls.mu.Lock()
		q, done, err := ls.queue, ls.done, ls.err
		if ls.sampled {
			done, err = true, errSampled
		}
		ls.queue = nil
		ls.mu.Unlock()
		for _, e := range q {
			if !p.first(e) {
				continue
			}
			if err := fn(e); err != nil {
				return &userError{err}
			}
		}
		if done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ls.wake:
		}
	}
}

func (ls *liveSession) close() { ls.stream.Close() }

// poll follows by FilterLogEvents: from the newest timestamp seen
// (inclusive, minus a margin for late events), de-duplicated.
func (s *Source) poll(ctx context.Context, d *dedup, from int64, fn func(Event) error) error {
	interval := pollMin
	for {
		before := len(d.seen)
		start := from
		if d.newest > 0 {
			start = max(from, d.newest-catchUp.Milliseconds())
		}
		_, err := s.read(ctx, start, 0, d.pass(), fn)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err != nil && (fatal(err) || denied(err)):
			return s.explain(err)
		case err != nil:
			s.notice("polling failed (%v); retrying", short(err))
			interval = pollMax
		case len(d.seen) > before:
			interval = pollMin
		default:
			interval = min(2*interval, pollMax)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}

// maxLostStarts is how many starts in a row may lose their connection
// before following falls back to polling.
const maxLostStarts = 5

// transient errors are lost connections, not answers from the endpoint.
func transient(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	// The SDK's event stream decoder does not always wrap the network
	// error it met.
	msg := err.Error()
	return strings.Contains(msg, "use of closed network connection") || strings.Contains(msg, "connection reset by peer")
}

// sleep waits d, or less if ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// fatal errors are the user's to fix; retrying or polling will not help.
func fatal(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ResourceNotFoundException", "UnrecognizedClientException", "InvalidSignatureException",
		"MissingAuthenticationTokenException", "InvalidParameterException", "ExpiredTokenException":
		return true
	}
	return false
}

// denied errors refuse the operation to these credentials: fatal for
// polling, a reason to poll for live tail.
func denied(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "AccessDeniedException"
}

func short(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
