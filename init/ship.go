package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/keelvm/keel/internal/bootcfg"
	"github.com/keelvm/keel/shipper"
	"github.com/keelvm/keel/shipper/redact"
	"github.com/keelvm/keel/supervisor"
)

// shippers are the app's and the boot log's, or nil when logs go to the
// console only.
type shippers struct {
	app, boot *shipper.Shipper
}

// readCredentials reads the [default] profile of a shared-credentials file.
func readCredentials(path string) (aws.CredentialsProvider, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read log credentials %s: %w", path, err)
	}
	defer f.Close()
	vals := map[string]string{}
	profile := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			profile = strings.TrimSpace(line[1 : len(line)-1])
		case profile == "default" && strings.Contains(line, "="):
			k, v, _ := strings.Cut(line, "=")
			vals[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	id, secret := vals["aws_access_key_id"], vals["aws_secret_access_key"]
	if id == "" || secret == "" {
		return nil, fmt.Errorf("log credentials %s: no aws_access_key_id and aws_secret_access_key in [default]", path)
	}
	return credentials.NewStaticCredentialsProvider(id, secret, vals["aws_session_token"]), nil
}

// requestTimeout bounds one delivery: a request of at most 1 MiB takes far
// less on a working network, and one that hangs on a cut path holds its
// events until it times out, longer than the flush timeout at shutdown
// (the shipper's default is 30 s).
const requestTimeout = 5 * time.Second

// startShippers creates the shippers of a logs configuration; region is
// the instance's (from IMDSv2), used when none is configured.
func startShippers(l *bootcfg.Logs, instance, region string) (*shippers, error) {
	creds, err := readCredentials(l.Credentials)
	if err != nil {
		return nil, err
	}
	switch {
	case l.Region != "":
		region = l.Region
	case region == "":
		region = bootcfg.DefaultRegion
	}
	opts := cwl.Options{Region: region, Credentials: creds, RetryMaxAttempts: 1}
	if l.Endpoint != "" {
		opts.BaseEndpoint = aws.String(l.Endpoint)
	}
	red, err := redact.New(l.RedactOff, l.Redact)
	if err != nil {
		return nil, fmt.Errorf("log redaction: %w", err)
	}
	client := cwl.New(opts)
	notice := func(s string) { logf("logs: %s", s) }
	mk := func(stream, multiline string) (*shipper.Shipper, error) {
		return shipper.New(shipper.Config{Client: client, Group: l.Group, Stream: stream, Format: l.Format,
			Instance: instance, Image: l.Image, RetentionDays: l.Retention, Redactor: red, Notice: notice,
			RequestTimeout: requestTimeout, Multiline: multiline, MaxEventBytes: l.EventMax})
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
