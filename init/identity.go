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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// imdsBound bounds the connection to the metadata service: on EC2 (and
// under keel run) it connects at once; elsewhere (QEMU without it,
// VirtualBox) 169.254.169.254 is unreachable or silent, and the boot must
// not wait on it. Once connected, a request may take up to imdsAnswer: the
// service is there, and under emulation it can be slow.
const (
	imdsBound  = 400 * time.Millisecond
	imdsAnswer = 10 * time.Second
)

// imdsEndpoint is EC2's instance metadata service; tests change it.
var imdsEndpoint = "http://169.254.169.254"

// newIMDSClient is the SDK's IMDS client as init uses it: IMDSv2 only (a
// token first; the SDK's fallback to IMDSv1 is off), never through a
// proxy, every connection and answer bounded. retries: whether failed
// requests are retried (the role's credentials) or not (the boot's one
// look, which must not multiply its bound).
func newIMDSClient(retries bool) *imds.Client {
	tr := &http.Transport{
		Proxy:                 nil, // link-local: never through a proxy
		DialContext:           (&net.Dialer{Timeout: imdsBound}).DialContext,
		ResponseHeaderTimeout: imdsAnswer,
		MaxIdleConns:          2,
		IdleConnTimeout:       30 * time.Second,
	}
	o := imds.Options{Endpoint: imdsEndpoint, EnableFallback: aws.FalseTernary,
		HTTPClient: &http.Client{Transport: tr, Timeout: imdsAnswer}}
	if !retries {
		o.Retryer = aws.NopRetryer{}
	}
	return imds.New(o)
}

// metadata is what the boot reads from IMDS: the instance's identity and
// its launch-time settings.
type metadata struct {
	instance, region string
	userData         []byte // nil: none
}

// readMetadata reads the instance id, the region and the user data.
func readMetadata(ctx context.Context, c *imds.Client) (metadata, error) {
	var md metadata
	get := func(path string) ([]byte, error) {
		out, err := c.GetMetadata(ctx, &imds.GetMetadataInput{Path: path})
		if err != nil {
			return nil, err
		}
		defer out.Content.Close()
		return io.ReadAll(io.LimitReader(out.Content, 64<<10))
	}
	id, err := get("instance-id")
	if err != nil {
		return md, fmt.Errorf("IMDSv2 instance id: %w", err)
	}
	reg, err := get("placement/region")
	if err != nil {
		return md, fmt.Errorf("IMDSv2 region: %w", err)
	}
	md.instance, md.region = strings.TrimSpace(string(id)), strings.TrimSpace(string(reg))
	if md.instance == "" || strings.ContainsAny(md.instance+md.region, " \t\n\"") {
		return md, fmt.Errorf("IMDSv2: unexpected instance id %q or region %q", md.instance, md.region)
	}
	ud, err := c.GetUserData(ctx, nil)
	switch {
	case httpStatus(err) == http.StatusNotFound: // launched without user data
	case err != nil:
		return md, fmt.Errorf("IMDSv2 user data: %w", err)
	default:
		defer ud.Content.Close()
		md.userData, err = io.ReadAll(io.LimitReader(ud.Content, 1<<20))
		if err != nil {
			return md, fmt.Errorf("IMDSv2 user data: %w", err)
		}
		if md.userData == nil {
			md.userData = []byte{}
		}
	}
	return md, nil
}

// httpStatus is the HTTP status of a failed SDK request, or 0.
func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// identify returns what IMDS says of the instance when the network came by
// DHCP and the service connects within imdsBound; ok is false elsewhere,
// and the events then name the instance by its hostname.
func identify(dhcp bool) (md metadata, ok bool) {
	if !dhcp {
		return metadata{instance: hostname()}, false
	}
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), imdsAnswer)
	defer cancel()
	md, err := readMetadata(ctx, newIMDSClient(false))
	if err != nil {
		host := hostname()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %v", imdsAnswer)
		}
		logf("instance identity: no instance metadata service (%v, %v): using the hostname %s", err, time.Since(t0).Round(time.Millisecond), host)
		return metadata{instance: host}, false
	}
	ud := "no user data"
	if md.userData != nil {
		ud = fmt.Sprintf("%d bytes of user data", len(md.userData))
	}
	logf("instance identity: instance %s in %s, %s (IMDSv2, %v)", md.instance, md.region, ud, time.Since(t0).Round(time.Millisecond))
	return md, true
}
