package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
func containerCredentials() credSource {
	env := os.Getenv
	if id, secret := env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		return credSource{CredentialsProvider: credentials.NewStaticCredentialsProvider(id, secret, env("AWS_SESSION_TOKEN")),
			what: "the environment (AWS_ACCESS_KEY_ID)"}
	}
	if uri := containerEndpoint(); uri != "" {
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
		return credSource{CredentialsProvider: cache, what: "the container credentials endpoint " + uri, refresh: cache.Invalidate}
	}
	if path, profile := sharedCredentialsFile(); path != "" {
		if _, err := os.Stat(path); err == nil {
			p, err := readProfile(path, profile)
			if err == nil {
				return credSource{CredentialsProvider: p, what: fmt.Sprintf("profile %s of %s", profile, path)}
			}
			logf("logs: %v", err)
		}
	}
	rc := newRoleCredentials()
	cache := aws.NewCredentialsCache(rc)
	return credSource{CredentialsProvider: cache, what: "the instance role (IMDSv2)", role: true,
		refresh: func() { rc.forget(); cache.Invalidate() }}
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
