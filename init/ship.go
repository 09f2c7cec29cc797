package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/shipper"
	"github.com/keelvm/keel/shipper/cwlhttp"
	"github.com/keelvm/keel/shipper/redact"
	"github.com/keelvm/keel/supervisor"
)

// shippers are the app's and the boot log's, or nil when logs go to the
// console only.
type shippers struct {
	app, boot *shipper.Shipper
}

// requestTimeout bounds one delivery: a request of at most 1 MiB takes far
// less on a working network, and one that hangs on a cut path holds its
// events until it times out, longer than the flush timeout at shutdown
// (the shipper's default is 30 s).
const requestTimeout = 5 * time.Second

// startShippers creates the shippers of a logs configuration; region is
// the instance's (from IMDSv2), used when none is configured.
func startShippers(l *bootcfg.Logs, creds credSource, instance, region string) (*shippers, error) {
	region = regionOf(l, region)
	red, err := redact.New(l.RedactOff, l.Redact)
	if err != nil {
		return nil, fmt.Errorf("log redaction: %w", err)
	}
	// The shipper's own transport, not the SDK's service client: the
	// service package's initialisation alone cost ~39 ms of every boot
	// and most of the binary's growth (docs/lean-init.md). It retrieves
	// the credentials per request, so creds.refresh (on
	// ExpiredTokenException) takes effect on the resend.
	client, err := cwlhttp.New(cwlhttp.Options{Region: region, Credentials: creds.CredentialsProvider, Endpoint: l.Endpoint})
	if err != nil {
		return nil, fmt.Errorf("logs: %w", err)
	}
	notice := func(s string) { logf("logs: %s", s) }
	mk := func(stream, multiline string) (*shipper.Shipper, error) {
		return shipper.New(shipper.Config{Client: client, Group: l.Group, Stream: stream, Format: l.Format,
			Instance: instance, Image: l.Image, RetentionDays: l.Retention, Redactor: red, Notice: notice,
			RequestTimeout: requestTimeout, Multiline: multiline, MaxEventBytes: l.EventMax, RefreshCredentials: creds.refresh})
	}
	app, err := mk(l.Stream, l.Multiline)
	if err != nil {
		return nil, fmt.Errorf("start the app's log shipper: %w", err)
	}
	boot, err := mk(l.Stream+"/boot", "") // the app's expression is for the app's lines: auto
	if err != nil {
		return nil, fmt.Errorf("start the boot log shipper: %w", err)
	}
	return &shippers{app: app, boot: boot}, nil
}

// regionOf is the region the logs go to: the configured one, else the
// instance's (from IMDS), else bootcfg.DefaultRegion.
func regionOf(l *bootcfg.Logs, instanceRegion string) string {
	switch {
	case l.Region != "":
		return l.Region
	case instanceRegion != "":
		return instanceRegion
	}
	return bootcfg.DefaultRegion
}

// close flushes both shippers within d and reports what could not be
// delivered.
func (s *shippers) close(d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	for name, sh := range map[string]*shipper.Shipper{"app": s.app, "boot": s.boot} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					logf("logs (%s): flush stopped: %v", name, r)
				}
			}()
			err := sh.Close(ctx)
			st := sh.Stats()
			if err != nil || st.Lost > 0 || st.Dropped > 0 {
				logf("logs (%s): %d sent, %d dropped, %d lost at shutdown (%v)", name, st.Sent, st.Dropped, st.Lost, err)
			}
		}()
	}
	wg.Wait()
}

// teeSink sends supervisor events to the console and to the app's stream
// (held until its shipper exists).
type teeSink struct {
	console consoleSink
	ship    *heldLog // nil: console only
}

func (t teeSink) Log(ev supervisor.Event) {
	t.console.Log(ev)
	if t.ship != nil {
		t.ship.log(shipper.Event(ev))
	}
}
