package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// readCredentials reads the [default] profile of a shared-credentials file.
func readCredentials(path string) (aws.CredentialsProvider, error) {
	return readProfile(path, "default")
}

// readProfile reads one profile of a shared-credentials file.
func readProfile(path, name string) (aws.CredentialsProvider, error) {
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
		case profile == name && strings.Contains(line, "="):
			k, v, _ := strings.Cut(line, "=")
			vals[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	id, secret := vals["aws_access_key_id"], vals["aws_secret_access_key"]
	if id == "" || secret == "" {
		return nil, fmt.Errorf("log credentials %s: no aws_access_key_id and aws_secret_access_key in [%s]", path, name)
	}
	return credentials.NewStaticCredentialsProvider(id, secret, vals["aws_session_token"]), nil
}
