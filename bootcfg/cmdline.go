package bootcfg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SplitCmdline splits a kernel command line as the kernel does: on white
// space (its isspace: space, \t, \n, \v, \f, \r and Latin-1's no-break
// space 0xa0, even inside a UTF-8 character), with double quotes
// grouping (keel.env="GREETING=hello world"), the quotes removed. It works
// on bytes: the command line need not be UTF-8.
func SplitCmdline(s string) []string {
	var out []string
	var cur strings.Builder
	inQuote, any := false, false
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b == '"':
			inQuote = !inQuote
			any = true
		case !inQuote && (b == ' ' || '\t' <= b && b <= '\r' || b == 0xa0):
			if any {
				out = append(out, cur.String())
				cur.Reset()
				any = false
			}
		default:
			cur.WriteByte(b)
			any = true
		}
	}
	if any {
		out = append(out, cur.String())
	}
	return out
}

// CmdlineKeys documents the keel.* keys of the kernel command line.
const CmdlineKeys = `keel.app=PATH  keel.arg=ARG (repeatable; replaces the file's args)
keel.env=NAME=VALUE (repeatable; overrides the file's NAME)  keel.dir=PATH
keel.user=NAME|UID  keel.group=NAME|GID  keel.restart=always|on-failure|never
keel.grace=10s  keel.flush_timeout=10s  keel.halt=poweroff|reboot  keel.wait=network|none
keel.net=dhcp|none|static:ADDR/PREFIX[,GATEWAY[,DNS...]]
keel.modules=NAME|PATH[,...] (loaded after the image's)  keel.rlimit.RESOURCE=N|SOFT:HARD
keel.logs.group= .stream= .region= .endpoint= .format=json|text .image= .retention=DAYS
keel.logs.redact.off=PATTERN[,...]  keel.logs.redact=REGEXP (repeatable)
keel.logs.multiline=auto|off|REGEXP  keel.logs.event.max=BYTES`

var errUnknownKey = errors.New("unknown key")

// ApplyCmdline applies the keel.* keys of a kernel command line over c
// (see CmdlineKeys); other parameters are the kernel's and are skipped.
// An unknown key, or a value that does not parse, is an error naming the
// key and the offending text.
func (c *Config) ApplyCmdline(cmdline string) error {
	argsSeen := false
	for _, kv := range SplitCmdline(cmdline) {
		if kv == "--" {
			break // what follows is init's argv, not parameters (the kernel's rule)
		}
		k, v, hasValue := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "keel.") {
			continue
		}
		bad := func(err error) error {
			return fmt.Errorf("kernel command line: %s=%q: %w", k, v, err)
		}
		if !hasValue {
			return fmt.Errorf("kernel command line: %q: want %s=VALUE", kv, k)
		}
		if v == "" {
			return bad(errors.New("empty value"))
		}
		if k == "keel.arg" && !argsSeen {
			c.Args, argsSeen = nil, true
		}
		if err := c.applyKey(k, v); errors.Is(err, errUnknownKey) {
			return fmt.Errorf("kernel command line: unknown key %q (in %q); the keys are:\n%s", k, kv, CmdlineKeys)
		} else if err != nil {
			return bad(err)
		}
	}
	return nil
}

// applyKey sets one key; v is not empty.
func (c *Config) applyKey(k, v string) error {
	if name, ok := strings.CutPrefix(k, "keel.rlimit."); ok {
		if err := checkRlimitName(name); err != nil {
			return err
		}
		if _, _, err := ParseRlimit(v); err != nil {
			return err
		}
		if c.Rlimits == nil {
			c.Rlimits = map[string]string{}
		}
		c.Rlimits[name] = v
		return nil
	}
	if name, ok := strings.CutPrefix(k, "keel.logs."); ok {
		if c.Logs == nil {
			c.Logs = &Logs{}
		}
		return c.Logs.applyKey(name, v)
	}
	switch k {
	case "keel.app":
		return set(&c.App, v, checkAbs)
	case "keel.arg":
		c.Args = append(c.Args, v)
	case "keel.env":
		if err := checkEnv(v); err != nil {
			return err
		}
		c.Env = setEnv(c.Env, v)
	case "keel.dir":
		return set(&c.Dir, v, checkAbs)
	case "keel.user":
		c.User = v
	case "keel.group":
		c.Group = v
	case "keel.restart":
		return set(&c.Restart, v, checkRestart)
	case "keel.net":
		return set(&c.Net, v, checkNet)
	case "keel.halt":
		return set(&c.Halt, v, checkHalt)
	case "keel.wait":
		return set(&c.Wait, v, checkWait)
	case "keel.grace", "keel.flush_timeout":
		d, err := parseDuration(v)
		if err != nil {
			return err
		}
		if k == "keel.grace" {
			c.Grace = Duration(d)
		} else {
			c.FlushTimeout = Duration(d)
		}
	case "keel.modules":
		for _, m := range strings.Split(v, ",") {
			if err := checkModule(m); err != nil {
				return fmt.Errorf("module %q: %w", m, err)
			}
			c.Modules = append(c.Modules, m)
		}
	default:
		return errUnknownKey
	}
	return nil
}

func (l *Logs) applyKey(name, v string) error {
	switch name {
	case "group":
		return set(&l.Group, v, checkGroup)
	case "stream":
		return set(&l.Stream, v, checkStream)
	case "region":
		return set(&l.Region, v, checkRegion)
	case "endpoint":
		return set(&l.Endpoint, v, checkEndpoint)
	case "format":
		return set(&l.Format, v, checkFormat)
	case "image":
		l.Image = v
	case "retention":
		days, err := parseRetention(v)
		if err != nil {
			return err
		}
		l.Retention = days
	case "redact.off":
		off := strings.Split(v, ",")
		if err := checkRedaction(off, nil); err != nil {
			return err
		}
		l.RedactOff = append(l.RedactOff, off...)
	case "redact":
		if err := checkRedaction(nil, []string{v}); err != nil {
			return err
		}
		l.Redact = append(l.Redact, v)
	case "multiline":
		return set(&l.Multiline, v, CheckMultiline)
	case "event.max":
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("want a number of bytes")
		}
		if err := CheckEventMax(n); err != nil {
			return err
		}
		l.EventMax = n
	case "credentials":
		return errors.New("credentials never come from the kernel command line, which every process can read: put them in a root-only file of the image (\"logs\": {\"credentials\": PATH}) or use the instance role")
	default:
		return errUnknownKey
	}
	return nil
}

func set(dst *string, v string, check func(string) error) error {
	if err := check(v); err != nil {
		return err
	}
	*dst = v
	return nil
}

// setEnv sets NAME=VALUE in env, replacing an earlier NAME.
func setEnv(env []string, kv string) []string {
	name, _, _ := strings.Cut(kv, "=")
	for i, e := range env {
		if n, _, _ := strings.Cut(e, "="); n == name {
			out := append([]string(nil), env...)
			out[i] = kv
			return out
		}
	}
	return append(env, kv)
}
