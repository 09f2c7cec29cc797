package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// imdsBound bounds the whole IMDSv2 exchange: on EC2 it answers in a few
// milliseconds; elsewhere (QEMU, VirtualBox) 169.254.169.254 is unreachable
// or silent, and the boot must not wait on it.
const imdsBound = 400 * time.Millisecond

// imdsBase is EC2's instance metadata service.
const imdsBase = "http://169.254.169.254"

// imdsIdentity asks IMDSv2 for the instance id and region: a session token
// first (PUT, required by IMDSv2-only instances), then the two values.
// Plain net/http: the SDK's imds package would add to the binary for three
// requests.
func imdsIdentity(ctx context.Context, base string) (instance, region string, err error) {
	c := &http.Client{Transport: &http.Transport{
		Proxy:             nil, // the metadata service is link-local: never through a proxy
		DialContext:       (&net.Dialer{}).DialContext,
		DisableKeepAlives: false,
	}}
	defer c.CloseIdleConnections()
	req := func(method, path, token string) (string, error) {
		r, err := http.NewRequestWithContext(ctx, method, base+path, nil)
		if err != nil {
			return "", err
		}
		if token == "" {
			r.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "60")
		} else {
			r.Header.Set("X-aws-ec2-metadata-token", token)
		}
		resp, err := c.Do(r)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if err != nil {
			return "", fmt.Errorf("%s %s: %w", method, path, err)
		}
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("%s %s: %s", method, path, resp.Status)
		}
		v := strings.TrimSpace(string(b))
		if v == "" || strings.ContainsAny(v, " \t\n\"") {
			return "", fmt.Errorf("%s %s: unexpected answer %q", method, path, v)
		}
		return v, nil
	}
	token, err := req(http.MethodPut, "/latest/api/token", "")
	if err != nil {
		return "", "", fmt.Errorf("IMDSv2 token: %w", err)
	}
	if instance, err = req(http.MethodGet, "/latest/meta-data/instance-id", token); err != nil {
		return "", "", fmt.Errorf("IMDSv2 instance id: %w", err)
	}
	if region, err = req(http.MethodGet, "/latest/meta-data/placement/region", token); err != nil {
		return "", "", fmt.Errorf("IMDSv2 region: %w", err)
	}
	return instance, region, nil
}

// identify returns the instance name of the events and the region found,
// if any: EC2's instance id and region when the network came by DHCP and
// IMDSv2 answers within imdsBound, else the hostname.
func identify(dhcp bool) (instance, region string) {
	host := hostname()
	if !dhcp {
		return host, ""
	}
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), imdsBound)
	defer cancel()
	id, reg, err := imdsIdentity(ctx, imdsBase)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %v", imdsBound)
		}
		logf("instance identity: not EC2 (%v, %v): using the hostname %s", err, time.Since(t0).Round(time.Millisecond), host)
		return host, ""
	}
	logf("instance identity: EC2 instance %s in %s (%v)", id, reg, time.Since(t0).Round(time.Millisecond))
	return id, reg
}
