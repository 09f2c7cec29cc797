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
	"golang.org/x/sys/unix"
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

// newIMDSClient is the SDK's IMDS client as init uses it for the role's
// credentials: IMDSv2 only (a token first; the SDK's fallback to IMDSv1
// is off), never through a proxy, every connection and answer bounded.
func newIMDSClient() *imds.Client {
	tr := &http.Transport{
		Proxy:                 nil, // link-local: never through a proxy
		DialContext:           (&net.Dialer{Timeout: imdsBound}).DialContext,
		ResponseHeaderTimeout: imdsAnswer,
		MaxIdleConns:          2,
		IdleConnTimeout:       30 * time.Second,
	}
	o := imds.Options{Endpoint: imdsEndpoint, EnableFallback: aws.FalseTernary,
		HTTPClient: &http.Client{Transport: tr, Timeout: imdsAnswer}}
	return imds.New(o)
}

// metadata is what the boot reads from IMDS: the instance's identity and
// its launch-time settings.
type metadata struct {
	instance, region string
	userData         []byte // nil: none
}

// errNotFound is a 404 from IMDS.
var errNotFound = errors.New("404 Not Found")

// readMetadata reads the instance id, the region and the user data with
// IMDSv2: a session token first (PUT), then the three values with it.
// Plain net/http, not the SDK's client: the boot waits for these three
// requests, and under emulation the SDK's middleware stack costs the
// first use tens of milliseconds (its client serves the credentials,
// which nothing waits for).
func readMetadata(ctx context.Context, base string) (metadata, error) {
	var md metadata
	c := &http.Client{Transport: &http.Transport{
		Proxy:       nil, // link-local: never through a proxy
		DialContext: (&net.Dialer{Timeout: imdsBound}).DialContext,
	}}
	defer c.CloseIdleConnections()
	req := func(method, path, token string, limit int64) ([]byte, error) {
		r, err := http.NewRequestWithContext(ctx, method, base+path, nil)
		if err != nil {
			return nil, err
		}
		if token == "" {
			r.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "60")
		} else {
			r.Header.Set("X-aws-ec2-metadata-token", token)
		}
		resp, err := c.Do(r)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
		switch {
		case err != nil:
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		case resp.StatusCode == http.StatusNotFound:
			return nil, errNotFound
		case resp.StatusCode != http.StatusOK:
			return nil, fmt.Errorf("%s %s: %s", method, path, resp.Status)
		}
		return b, nil
	}
	word := func(path, token string) (string, error) {
		b, err := req(http.MethodGet, path, token, 4096)
		if err != nil {
			return "", err
		}
		v := strings.TrimSpace(string(b))
		if v == "" || strings.ContainsAny(v, " \t\n\"") {
			return "", fmt.Errorf("GET %s: unexpected answer %q", path, v)
		}
		return v, nil
	}
	tok, err := req(http.MethodPut, "/latest/api/token", "", 4096)
	if err != nil {
		return md, fmt.Errorf("IMDSv2 token: %w", err)
	}
	token := strings.TrimSpace(string(tok))
	if md.instance, err = word("/latest/meta-data/instance-id", token); err != nil {
		return md, fmt.Errorf("IMDSv2 instance id: %w", err)
	}
	if md.region, err = word("/latest/meta-data/placement/region", token); err != nil {
		return md, fmt.Errorf("IMDSv2 region: %w", err)
	}
	ud, err := req(http.MethodGet, "/latest/user-data", token, 1<<20)
	switch {
	case errors.Is(err, errNotFound): // launched without user data
	case err != nil:
		return md, fmt.Errorf("IMDSv2 user data: %w", err)
	case ud == nil:
		md.userData = []byte{}
	default:
		md.userData = ud
	}
	return md, nil
}

// routeToIMDS asks the kernel for a route to the metadata service: where
// there is none (QEMU's default network, no network) the boot does not
// try at all. A UDP socket's connect sends no packet; raw system calls,
// since under emulation net.Dial's first use alone costs milliseconds.
func routeToIMDS() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("route to 169.254.169.254: socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: 80, Addr: [4]byte{169, 254, 169, 254}}); err != nil {
		return fmt.Errorf("route to 169.254.169.254: %w", err)
	}
	return nil
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
	err := routeToIMDS()
	if err == nil {
		md, err = readMetadata(ctx, imdsEndpoint)
	}
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
