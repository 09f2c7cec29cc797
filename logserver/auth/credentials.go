package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/keelvm/keel/internal/fsutil"
)

// WriteCredentialsFile writes key as profile (default "default") of the AWS
// shared-credentials file at path, so that AWS_SHARED_CREDENTIALS_FILE=path
// (or --profile with ~/.aws/credentials) makes AWS clients sign with it.
// Other profiles already in the file are kept; an existing section of the same
// name is replaced. The file is written atomically with mode 0600. Only the two
// key lines are written: the region belongs in the config file, not here.
func WriteCredentialsFile(path string, key Key, profile string) error {
	if profile == "" {
		profile = "default"
	}
	if profile != strings.TrimSpace(profile) || strings.ContainsAny(profile, "[]\r\n#;") {
		return fmt.Errorf("write credentials %s: profile name %q cannot be written as an INI section", path, profile)
	}
	if !isCredentialToken(key.ID) || !isCredentialToken(key.Secret) {
		return fmt.Errorf("write credentials %s: key %q has an empty or malformed id or secret", path, key.Name)
	}
	// Replace the file a symlink points at, not the symlink, so a linked
	// ~/.aws/credentials stays linked.
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved
	}
	old, err := os.ReadFile(target)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write credentials: %w", err)
	}
	section := CredentialsSection(key, profile)
	if err := fsutil.WriteFileAtomic(target, replaceSection(string(old), profile, section), 0o600); err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	return nil
}

// CredentialsSection is key as one profile of an AWS shared-credentials
// file: the two key lines under [profile].
func CredentialsSection(key Key, profile string) string {
	return "[" + profile + "]\n" +
		"aws_access_key_id = " + key.ID + "\n" +
		"aws_secret_access_key = " + key.Secret + "\n"
}

func isCredentialToken(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t\r\n")
}

// replaceSection returns ini with every section named name removed and
// section put where the first one was, or appended after a blank line.
func replaceSection(ini, name, section string) []byte {
	var out strings.Builder
	inserted, skipping := false, false
	for _, line := range strings.SplitAfter(ini, "\n") {
		if header, ok := sectionName(line); ok {
			wasSkipping := skipping
			skipping = header == name
			if wasSkipping && !skipping {
				out.WriteString("\n") // the blank line that went with the replaced section
			}
			if skipping && !inserted {
				out.WriteString(section)
				inserted = true
			}
		}
		if !skipping {
			out.WriteString(line)
		}
	}
	if !inserted {
		s := out.String()
		if s != "" && !strings.HasSuffix(s, "\n") {
			out.WriteString("\n")
		}
		if strings.TrimSpace(s) != "" {
			out.WriteString("\n")
		}
		out.WriteString(section)
	}
	return []byte(out.String())
}

func sectionName(line string) (string, bool) {
	t := strings.TrimSpace(line)
	if len(t) < 2 || t[0] != '[' || t[len(t)-1] != ']' {
		return "", false
	}
	return strings.TrimSpace(t[1 : len(t)-1]), true
}
