package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
)

// containerCredentials is, for init as a container's PID 1, the sources of
// the SDK's default chain that a container has, in the SDK's order: the
// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), the container credentials endpoint (ECS, EKS Pod
// Identity: AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI, with
// AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]), the shared credentials file
// (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile AWS_PROFILE),
// then the instance role through IMDSv2. Built from the SDK's providers
// rather than its config package, which would add 2 MB of SSO, STS and
// config-file code to every image's init.
func containerCredentials() (credSource, error) {
	env := os.Getenv
	if id, secret := env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		return credSource{CredentialsProvider: credentials.NewStaticCredentialsProvider(id, secret, env("AWS_SESSION_TOKEN")),
			what: "the environment (AWS_ACCESS_KEY_ID)"}, nil
	}
	if uri := containerEndpoint(); uri != "" {
		if err := checkContainerEndpoint(uri); err != nil {
			return credSource{}, err
		}
		p := endpointcreds.New(uri, func(o *endpointcreds.Options) {
			o.AuthorizationToken = env("AWS_CONTAINER_AUTHORIZATION_TOKEN")
			if f := env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); f != "" {
				o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
					b, err := os.ReadFile(f)
					return strings.TrimSpace(string(b)), err
				})
			}
		})
		cache := aws.NewCredentialsCache(p)
		return credSource{CredentialsProvider: cache, what: "the container credentials endpoint " + uri, refresh: cache.Invalidate}, nil
	}
	if path, profile := sharedCredentialsFile(); path != "" {
		if _, err := os.Stat(path); err == nil {
			p, err := readProfile(path, profile)
			if err == nil {
				return credSource{CredentialsProvider: p, what: fmt.Sprintf("profile %s of %s", profile, path)}, nil
			}
			logf("logs: %v", err)
		}
	}
	rc := newRoleCredentials()
	cache := aws.NewCredentialsCache(rc)
	return credSource{CredentialsProvider: cache, what: "the instance role (IMDSv2)", role: true,
		refresh: func() { rc.forget(); cache.Invalidate() }}, nil
}

// containerEndpoint is the container credentials endpoint the environment
// names, or "".
func containerEndpoint() string {
	if u := os.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"); u != "" {
		return u
	}
	if rel := os.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel != "" {
		return "http://169.254.170.2" + rel // ECS's agent, as the SDK has it
	}
	return ""
}

// checkContainerEndpoint applies the SDK's rule (config's
// resolveLocalHTTPCredProvider) to AWS_CONTAINER_CREDENTIALS_FULL_URI
// before the authorization token is sent to it: https to any host; http
// only to a host that is, or resolves only to, a loopback address or the
// ECS (169.254.170.2) or EKS Pod Identity (169.254.170.23, fd00:ec2::23)
// agent's, so that the token never crosses a network in the clear.
func checkContainerEndpoint(uri string) error {
	const fix = "use https, or http to a loopback address or to the ECS or EKS agent (169.254.170.2, 169.254.170.23, fd00:ec2::23)"
	u, err := url.Parse(uri)
	if err != nil {
		return fmt.Errorf("container credentials endpoint %s: %v; %s", uri, err, fix)
	}
	host := u.Hostname()
	switch {
	case host == "":
		return fmt.Errorf("container credentials endpoint %s: no host; %s", uri, fix)
	case u.Scheme == "https":
		return nil
	case u.Scheme != "http":
		return fmt.Errorf("container credentials endpoint %s: scheme %q; %s", uri, u.Scheme, fix)
	}
	addrs := []string{host}
	if net.ParseIP(host) == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if addrs, err = net.DefaultResolver.LookupHost(ctx, host); err != nil {
			return fmt.Errorf("container credentials endpoint %s: resolve %s: %v; %s", uri, host, err, fix)
		}
	}
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip == nil || !containerAgentIP(ip) {
			return fmt.Errorf("container credentials endpoint %s: http to %s, which is neither loopback nor the ECS or EKS agent, would send the authorization token in the clear; %s", uri, a, fix)
		}
	}
	return nil
}

// containerAgentIP says whether http may carry the authorization token to
// ip: loopback, or the ECS or EKS agent's link-local address.
func containerAgentIP(ip net.IP) bool {
	return ip.IsLoopback() || ip.Equal(net.IPv4(169, 254, 170, 2)) || ip.Equal(net.IPv4(169, 254, 170, 23)) ||
		ip.Equal(net.ParseIP("fd00:ec2::23"))
}

// sharedCredentialsFile is the shared credentials file and profile the
// environment names, as the SDK finds them.
func sharedCredentialsFile() (path, profile string) {
	profile = os.Getenv("AWS_PROFILE")
	if profile == "" {
		profile = "default"
	}
	if p := os.Getenv("AWS_SHARED_CREDENTIALS_FILE"); p != "" {
		return p, profile
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", profile
	}
	return filepath.Join(home, ".aws", "credentials"), profile
}
