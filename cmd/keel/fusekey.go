package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// readKeyFile reads the file of keel fuse -logs.credentials: a shared
// credentials file whose [default] profile has a key, as 'keel logserver
// key create -o FILE' writes it. Checked here: init would find out only
// at boot.
func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-logs.credentials: %w", err)
	}
	profile, have := "", map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			profile = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && profile == "default" && strings.TrimSpace(v) != "" {
			have[strings.TrimSpace(k)] = true
		}
	}
	if !have["aws_access_key_id"] || !have["aws_secret_access_key"] {
		return nil, fmt.Errorf("-logs.credentials %s: no aws_access_key_id and aws_secret_access_key in its [default] profile: make one with 'keel logserver key create -name NAME -group GROUP -stream.prefix USER/APP -o FILE'", path)
	}
	return b, nil
}
