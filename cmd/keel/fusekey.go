package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/keelvm/keel/logserver/auth"
)

// readKeyFile reads the file of keel fuse -logs.credentials, a shared
// credentials file as 'keel logserver key create -o FILE' writes it, and
// returns what goes into the image: only the [default] profile's key id and
// secret, re-serialized by the writer of key create (the format init's
// readCredentials parses). Other profiles never reach the image, so passing
// ~/.aws/credentials ships one key, not every one. Session credentials are
// refused: they expire, and the image would stop shipping its logs. Checked
// here: init would find out only at boot.
func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-logs.credentials: %w", err)
	}
	profile, vals := "", map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			profile = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && profile == "default" {
			vals[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("-logs.credentials %s: %w", path, err)
	}
	key := auth.Key{ID: vals["aws_access_key_id"], Secret: vals["aws_secret_access_key"]}
	if key.ID == "" || key.Secret == "" {
		return nil, fmt.Errorf("-logs.credentials %s: no aws_access_key_id and aws_secret_access_key in its [default] profile (only [default] is read): make one with 'keel logserver key create -name NAME -group GROUP -stream.prefix USER/APP -o FILE'", path)
	}
	if vals["aws_session_token"] != "" {
		return nil, fmt.Errorf("-logs.credentials %s: its [default] profile holds session credentials (aws_session_token), which expire: an image with them would stop shipping its logs; give a long-lived scoped key from 'keel logserver key create -name NAME -group GROUP -stream.prefix USER/APP -o FILE'", path)
	}
	if strings.ContainsAny(key.ID+key.Secret, " \t") {
		return nil, fmt.Errorf("-logs.credentials %s: the [default] key's id or secret holds a space: write each on one line with no spaces inside", path)
	}
	return []byte(auth.CredentialsSection(key, "default")), nil
}
