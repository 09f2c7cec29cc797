package logserver

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	maxNameLen       = 512
	groupNamePattern = `[\.\-_/#A-Za-z0-9]+`
	streamPattern    = `[^:*]*`
)

func validGroupChar(c byte) bool {
	return c == '.' || c == '-' || c == '_' || c == '/' || c == '#' ||
		(c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
}

// checkGroupName validates a log group name member; required says whether a
// missing value is itself a violation.
func (v *violations) checkGroupName(path string, name *string, required bool) {
	if name == nil {
		if required {
			v.addNull(path)
		}
		return
	}
	n := *name
	if utf8.RuneCountInString(n) < 1 {
		v.add(n, path, "Member must have length greater than or equal to 1")
		return
	}
	if utf8.RuneCountInString(n) > maxNameLen {
		v.add(n, path, "Member must have length less than or equal to 512")
	}
	for i := 0; i < len(n); i++ {
		if !validGroupChar(n[i]) {
			v.add(n, path, "Member must satisfy regular expression pattern: "+groupNamePattern)
			return
		}
	}
}

// checkStreamName validates a log stream name member.
func (v *violations) checkStreamName(path string, name *string, required bool) {
	if name == nil {
		if required {
			v.addNull(path)
		}
		return
	}
	n := *name
	if utf8.RuneCountInString(n) < 1 {
		v.add(n, path, "Member must have length greater than or equal to 1")
		return
	}
	if utf8.RuneCountInString(n) > maxNameLen {
		v.add(n, path, "Member must have length less than or equal to 512")
	}
	if strings.ContainsAny(n, ":*") {
		v.add(n, path, "Member must satisfy regular expression pattern: "+streamPattern)
	}
}

// checkPrefix validates an optional name prefix member (group or stream).
func (v *violations) checkPrefix(path string, p *string, group bool) {
	if p == nil {
		return
	}
	if group {
		v.checkGroupName(path, p, false)
	} else {
		v.checkStreamName(path, p, false)
	}
}

// checkLimit validates an optional limit member against [1, max].
func (v *violations) checkLimit(path string, limit *int64, max int64) {
	if limit == nil {
		return
	}
	if *limit < 1 {
		v.add(*limit, path, "Member must have value greater than or equal to 1")
	}
	if *limit > max {
		v.add(*limit, path, "Member must have value less than or equal to "+strconv.FormatInt(max, 10))
	}
}

// checkTime validates an optional millisecond timestamp member.
func (v *violations) checkTime(path string, t *int64) {
	if t != nil && *t < 0 {
		v.add(*t, path, "Member must have value greater than or equal to 0")
	}
}

// checkToken validates the length of an optional nextToken member.
func (v *violations) checkToken(path string, t *string) {
	if t != nil && len(*t) < 1 {
		v.add(*t, path, "Member must have length greater than or equal to 1")
	}
}

func limitOr(l *int64, def int64) int {
	if l == nil {
		return int(def)
	}
	return int(*l)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
