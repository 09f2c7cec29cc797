// Package cwlname holds CloudWatch Logs' rules for the names of log groups
// and streams, which the shipper and the boot configuration both check, so
// that a bad name fails where it is given and not at the first delivery.
// The checks are loops, not regular expressions: the init links them, and
// compiling `{1,512}` alone cost a TCG guest 28 ms of every boot.
package cwlname

import (
	"errors"
	"strings"
)

// Group checks a log group's name: 1 to 512 of A-Z a-z 0-9 . _ / # -.
func Group(v string) error {
	if v == "" || len(v) > 512 {
		return errGroup
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._/#-", c) >= 0) {
			return errGroup
		}
	}
	return nil
}

// Stream checks a log stream's name: 1 to 512 characters without : or *.
func Stream(v string) error {
	if v == "" || len(v) > 512 || strings.ContainsAny(v, ":*") {
		return errors.New("want 1 to 512 characters without : or *")
	}
	return nil
}

var errGroup = errors.New("want 1 to 512 of A-Z a-z 0-9 . _ / # -")
