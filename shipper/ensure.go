package shipper

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/smithy-go"
)

// ensure creates the stream and, when it is missing too, the group with its
// retention. Already existing is success. A key that may not create groups
// (the usual write-only key, where the deployer made the group) is reported
// once and the stream creation is still tried. Senders that hit
// ResourceNotFound together create once: created is the count of
// creations the caller's request saw, and a creation since answers it.
//
// The stream is created when a request finds it missing, not at start: a
// rebooted fleet finds its streams there and spends none of the account's
// CreateLogStream quota (50/s), the scarcest at fleet scale. Throttled, the
// creation is retried here with jittered backoff until it succeeds or the
// shipper closes; only the sender waits, and the app's lines wait in the
// buffer, so a throttled boot neither waits nor fails.
func (s *Shipper) ensure(created uint64) error {
	s.ensureMu.Lock()
	defer s.ensureMu.Unlock()
	if s.ensured.Load() != created {
		return nil
	}
	for attempt := 0; ; attempt++ {
		err := s.ensureOnce()
		if err == nil {
			s.ensured.Add(1)
		}
		if !isThrottle(err) || s.sendCtx.Err() != nil {
			return err
		}
		select {
		case <-time.After(s.createThrottled(attempt, err)):
		case <-s.sendCtx.Done():
			return err
		}
	}
}

// createEarly creates the stream in the background, once, when the first
// request is throttled before it could learn whether the stream exists: a
// new instance of a fleet throttled at scale-out would otherwise wait for
// PutLogEvents to let a request through merely to be told that its stream
// is missing, and only then queue for CreateLogStream (another quota).
// A rebooted instance whose stream exists spends one CreateLogStream on it,
// and only when throttled. The requests go on meanwhile; one that finds
// the stream missing waits for this creation instead of making another.
func (s *Shipper) createEarly() {
	s.earlyOnce.Do(func() {
		s.background.Add(1)
		go func() {
			defer s.background.Done()
			defer s.internalError("stream creation")
			if err := s.ensure(0); err != nil && s.sendCtx.Err() == nil {
				s.reportLocked("ensure", fmt.Sprintf("create log stream %s/%s: %v; retrying when a request finds it missing", s.cfg.Group, s.cfg.Stream, err))
			}
		}()
	})
}

// ensureOnce makes one attempt of ensure.
func (s *Shipper) ensureOnce() error {
	ctx, cancel := context.WithTimeout(s.sendCtx, s.cfg.RequestTimeout)
	defer cancel()
	err := s.createStream(ctx)
	if apiCode(err) != "ResourceNotFoundException" {
		return err
	}
	err = s.cfg.Client.CreateLogGroup(ctx, s.cfg.Group)
	switch {
	case err == nil:
		if s.cfg.RetentionDays > 0 {
			err := s.cfg.Client.PutRetentionPolicy(ctx, s.cfg.Group, s.cfg.RetentionDays)
			if err != nil {
				s.reportLocked("retention", fmt.Sprintf("set retention of %d days on log group %s: %v", s.cfg.RetentionDays, s.cfg.Group, err))
			}
		}
	case apiCode(err) == "ResourceAlreadyExistsException":
	case isDenied(err):
		s.reportLocked("group-denied", fmt.Sprintf("may not create log group %s (%v): expected when the deployer creates it; waiting for it", s.cfg.Group, err))
		return fmt.Errorf("create log group %s: %w", s.cfg.Group, err)
	default:
		return fmt.Errorf("create log group %s: %w", s.cfg.Group, err)
	}
	return s.createStream(ctx)
}

func (s *Shipper) createStream(ctx context.Context) error {
	err := s.cfg.Client.CreateLogStream(ctx, s.cfg.Group, s.cfg.Stream)
	switch apiCode(err) {
	case "ResourceAlreadyExistsException":
		return nil
	case "ResourceNotFoundException":
		return err
	}
	if err == nil {
		return nil
	}
	return fmt.Errorf("create log stream %s/%s: %w", s.cfg.Group, s.cfg.Stream, err)
}

func isDenied(err error) bool {
	c := apiCode(err)
	return c == "AccessDeniedException" || c == "AccessDenied"
}

// apiCode is the service's error code, or "" for transport errors.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
