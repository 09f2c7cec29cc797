package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/iampolicy"
	"github.com/keelvm/keel/imds"
	"github.com/keelvm/keel/logserver/auth"
)

// keel run gives its VM what EC2 gives an instance, the same way: a local
// IMDSv2 (package imds) at 169.254.169.254 with the instance's id, its
// region, its user data (the local log server's endpoint, the group of
// -env, the user's -set settings) and its instance role's credentials:
// session credentials of the local log server, limited by the same IAM
// policy a deployment attaches to the EC2 instance role
// (iampolicy.ShipOwnLogs), rotated before they expire as EC2 rotates them.

// The local log server's account and region, as its ARNs name them (see
// logserver.Config): the session policy's resources are in them.
const (
	localAccount   = "000000000000"
	localRegion    = "us-east-1"
	localPartition = "aws"
	// runRole is the instance role's name keel run's IMDS gives.
	runRole = "keel-run"
)

// DefaultSessionTTL is how long keel run's session credentials last, as
// EC2's role credentials do by default.
const DefaultSessionTTL = time.Hour

// newInstanceID makes an EC2-style instance id: "i-" and 17 hex digits.
func newInstanceID() string {
	b := make([]byte, 9)
	rand.Read(b)
	return "i-" + hex.EncodeToString(b)[:17]
}

// sessions issues and rotates one run's session credentials.
type sessions struct {
	kr     *auth.Keyring
	policy iampolicy.Document
	ttl    time.Duration
	prefix string    // names: PREFIX-N
	stderr io.Writer // where a failed pruning is reported, once

	mu      sync.Mutex
	n       int
	current auth.Key
	warned  bool // a failed pruning was reported
	stop    chan struct{}
	done    chan struct{}
}

// startSessions issues the first session and rotates it at half its life
// until close.
func startSessions(kr *auth.Keyring, policy iampolicy.Document, ttl time.Duration, prefix string) (*sessions, error) {
	s := &sessions{kr: kr, policy: policy, ttl: ttl, prefix: prefix, stderr: os.Stderr, stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.rotate(); err != nil {
		return nil, err
	}
	go s.loop()
	return s, nil
}

func (s *sessions) rotate() error {
	s.mu.Lock()
	s.n++
	name := fmt.Sprintf("%s-%d", s.prefix, s.n)
	s.mu.Unlock()
	k, err := s.kr.CreateSession(name[:min(len(name), 64)], s.policy, s.ttl)
	if err != nil {
		return fmt.Errorf("issue the VM's session credentials: %w", err)
	}
	s.mu.Lock()
	s.current = k
	s.mu.Unlock()
	// Sessions of this run that ended a while ago go: keys.json must not
	// grow through a long run. A recent one stays, so that a late request
	// with it is told ExpiredTokenException, not that it is unknown.
	cutoff := time.Now().Add(-max(s.ttl, 5*time.Minute))
	_, err = s.kr.DeleteWhere(func(old auth.Key) bool {
		return strings.HasPrefix(old.Name, s.prefix+"-") && old.IsSession() && old.Expires.Before(cutoff)
	})
	s.reportPrune(err)
	return nil
}

// reportPrune says on stderr that removing expired sessions failed: not
// fatal, the VM has its new credentials, and said once, not at every
// rotation of a long run.
func (s *sessions) reportPrune(err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	warn := !s.warned
	s.warned = true
	s.mu.Unlock()
	if warn {
		fmt.Fprintf(s.stderr, "keel run: remove this run's expired session credentials: %v (keys.json grows by one key per rotation until they go: 'keel logserver key list' shows them as %s-N, 'keel logserver key delete ID' removes one; the next keel run revokes them once this one has ended)\n", err, s.prefix)
	}
}

// loop rotates the credentials at half their life: the VM, which refreshes
// at two thirds of the life it was given, always finds new ones.
func (s *sessions) loop() {
	defer close(s.done)
	for {
		s.mu.Lock()
		next := time.Until(s.current.Created.Add(s.ttl / 2))
		s.mu.Unlock()
		select {
		case <-s.stop:
			return
		case <-time.After(next):
		}
		if err := s.rotate(); err != nil {
			// The current ones stay served until they expire; try again.
			select {
			case <-s.stop:
				return
			case <-time.After(time.Second):
			}
		}
	}
}

// credentials are the current session's, as IMDS serves them.
func (s *sessions) credentials() (imds.Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.current
	return imds.Credentials{AccessKeyID: k.ID, SecretAccessKey: k.Secret, Token: k.Token, Expiration: k.Expires, LastUpdated: k.Created}, nil
}

// close stops the rotation and revokes every session of the run.
func (s *sessions) close() error {
	close(s.stop)
	<-s.done
	_, err := s.kr.DeleteWhere(func(k auth.Key) bool { return strings.HasPrefix(k.Name, s.prefix+"-") })
	return err
}

// serveIMDS serves srv on a fresh loopback port until the returned stop.
func serveIMDS(srv *imds.Server) (addr string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("start the VM's metadata service: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(l) // ends with Close
	return l.Addr().String(), func() { hs.Close() }, nil
}

// userData is what keel run passes the VM at launch, as EC2's user data:
// the local log server's endpoint and the group of -env (when endpoint is
// set), then the user's -set settings, which win.
func userData(endpoint, group string, sets []string) []byte {
	var b strings.Builder
	if endpoint != "" {
		b.WriteString("# keel run: the local log server, and the log group of -env\n")
		fmt.Fprintf(&b, "keel.logs.endpoint=%s\nkeel.logs.group=%s\n", endpoint, group)
	}
	if len(sets) > 0 {
		b.WriteString("# -set\n")
	}
	for _, s := range sets {
		b.WriteString(bootcfg.UserDataLine(s))
	}
	return []byte(b.String())
}

// launchConfig is the image's configuration as the VM will have it with
// keel run's user data applied: checked before the boot, since a -set
// that the image refuses at boot is the user's to hear at once. An image
// without logs gets the log server only if -set gives it a group and a
// stream.
func launchConfig(c bootcfg.Config, f runFlags) (bootcfg.Config, error) {
	probe := c
	if c.Logs != nil {
		l := *c.Logs
		probe.Logs = &l
	}
	if err := probe.ApplyUserData(userData("", "", f.sets)); err != nil {
		return c, fmt.Errorf("-set: %w", err)
	}
	if probe.Logs == nil {
		return probe, nil
	}
	launch := c
	if c.Logs != nil {
		l := *c.Logs
		launch.Logs = &l
	}
	if err := launch.ApplyUserData(userData(guestLogEndpoint, "keel/"+f.env, f.sets)); err != nil {
		return c, fmt.Errorf("-set: %w", err)
	}
	return launch, nil
}

// checkSet checks a -set value: keel.KEY=VALUE on one line, without a
// double quote (user data has no escapes).
func checkSet(s string) error {
	k, _, ok := strings.Cut(s, "=")
	switch {
	case !ok || !strings.HasPrefix(k, "keel."):
		return fmt.Errorf("-set %q: want keel.KEY=VALUE, for example -set keel.env=GREETING=hi", s)
	case strings.ContainsAny(s, "\"\n\r"):
		return fmt.Errorf("-set %q: a value may not hold a double quote or a line break", s)
	}
	return nil
}
