package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/iampolicy"
)

// Where the shippers' credentials come from, in this order:
//   - a credentials file in the image: the one keel.logs.credentials names,
//     or one at the default path (images for hypervisors without IMDS,
//     such as VirtualBox: `keel fuse -logs.credentials`);
//   - in a VM: the instance role, through IMDSv2 (EC2, and keel run, which
//     serves the same); the SDK's ec2rolecreds does the exchange;
//   - in a container: the SDK's default chain's sources (containerchain.go).
//
// The shippers are created with the provider and never wait for it: until
// credentials come, their events wait in their bounded buffers.

// credSource is the shippers' credentials.
type credSource struct {
	aws.CredentialsProvider
	what string // where they come from, for the boot log
	// refresh, if set, is what the shipper calls when the service answers
	// ExpiredTokenException: the cached credentials are dropped, so that
	// the resend signs with fresh ones.
	refresh func()
	role    bool // the instance role's, through IMDS
}

// logCredentials returns the shippers' credentials.
func logCredentials(l *bootcfg.Logs) (credSource, error) {
	path := l.Credentials
	if path == "" {
		path = bootcfg.DefaultCredentials
	}
	_, statErr := os.Stat(path)
	switch {
	case statErr == nil:
		p, err := readCredentials(path)
		if err != nil {
			return credSource{}, err
		}
		return credSource{CredentialsProvider: p, what: "the key in " + path}, nil
	case path != bootcfg.DefaultCredentials || !errors.Is(statErr, fs.ErrNotExist):
		// Named, but not there: the image was meant to carry a key.
		logf("logs: credentials file %s: %v; trying the instance role", path, statErr)
	}
	if !ownsMachine {
		return containerCredentials()
	}
	rc := newRoleCredentials()
	cache := aws.NewCredentialsCache(rc)
	return credSource{CredentialsProvider: cache, what: "the instance role (IMDSv2)", role: true,
		refresh: func() { rc.forget(); cache.Invalidate() }}, nil
}

// roleCredentials is the instance role's credentials through the SDK's
// ec2rolecreds, as init keeps them: refreshed when two thirds of their
// life are gone (EC2 hands out new ones well before the old expire, and
// keel run's local IMDS at half their life), and when a refresh fails the
// current ones stay in use until they expire while refreshes are retried
// with backoff; the failure is said once in the boot stream, and so is
// the recovery.
type roleCredentials struct {
	src aws.CredentialsProvider

	mu        sync.Mutex
	last      aws.Credentials // the last good ones; real expiry
	have      bool
	failures  int
	nextTry   time.Time
	forgotten bool // the service called the last ones expired
}

func newRoleCredentials() *roleCredentials {
	c := newIMDSClient()
	return &roleCredentials{src: ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = c })}
}

// Retrieve returns the role's credentials, with an Expires that makes the
// cache in front ask again when a refresh is due.
func (r *roleCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	usable := r.have && !r.forgotten && now.Before(r.last.Expires)
	if usable && now.Before(r.nextTry) {
		return withExpiry(r.last, r.nextTry), nil
	}
	c, err := r.src.Retrieve(ctx)
	if err != nil {
		r.failures++
		wait := min(time.Second<<min(r.failures-1, 6), time.Minute)
		r.nextTry = now.Add(wait)
		if r.failures == 1 {
			if usable {
				logf("logs: refreshing the instance role's credentials failed (%v): using the current ones until they expire at %s, retrying with backoff",
					err, r.last.Expires.UTC().Format(time.TimeOnly))
			} else if httpStatus(err) != http.StatusNotFound {
				logf("logs: the instance role's credentials: %v; retrying with backoff", err)
			}
		}
		if usable {
			at := r.nextTry
			if r.last.Expires.Before(at) {
				at = r.last.Expires
			}
			return withExpiry(r.last, at), nil
		}
		return aws.Credentials{}, err
	}
	if r.failures > 0 {
		logf("logs: the instance role's credentials are refreshed (after %d failed attempts)", r.failures)
	}
	r.last, r.have, r.failures, r.forgotten = c, true, 0, false
	r.nextTry = now.Add(c.Expires.Sub(now) * 2 / 3)
	return withExpiry(c, r.nextTry), nil
}

// forget makes the next Retrieve ask IMDS: the service said the current
// credentials expired.
func (r *roleCredentials) forget() {
	r.mu.Lock()
	r.forgotten, r.nextTry = true, time.Time{}
	r.mu.Unlock()
}

func withExpiry(c aws.Credentials, at time.Time) aws.Credentials {
	c.CanExpire, c.Expires = true, at
	return c
}

// checkRole makes the first retrieval, bounded: an instance without an
// instance profile (IMDS answers 404 for the role) gets one clear line
// naming the fix, and no shippers. Other failures are transient: the
// shippers start and wait for credentials.
func checkRole(p aws.CredentialsProvider, l *bootcfg.Logs, region string) (noRole bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*imdsAnswer)
	defer cancel()
	_, err := p.Retrieve(ctx)
	if err == nil || httpStatus(err) != http.StatusNotFound {
		return false
	}
	logf("logs: %s", noRoleHint(l, region))
	return true
}

// noRoleHint is the line naming the fix for an instance without an
// instance profile: exactly the resources of the policy a deployment
// gives its role (iampolicy.ShipOwnLogs: the stream and the streams below
// it), not a STREAM* prefix that would grant other apps' streams too.
func noRoleHint(l *bootcfg.Logs, region string) string {
	res := iampolicy.ShipOwnLogs("aws", region, "ACCOUNT", l.Group, l.Stream).Statement[0].Resource
	return fmt.Sprintf("this instance has no instance profile (IMDS answers 404 for its role), so its logs cannot be shipped: "+
		"attach an instance profile whose role allows %s and %s on %s ; the app's output stays on the console",
		iampolicy.ActionCreateLogStream, iampolicy.ActionPutLogEvents, strings.Join(res, " and "))
}
