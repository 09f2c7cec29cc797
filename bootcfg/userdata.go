package bootcfg

import (
	"errors"
	"fmt"
	"strings"
)

// User data is the instance's launch-time configuration: EC2's (and keel
// run's) IMDS serves it at /latest/user-data. keel reads keel.* settings
// from it in the kernel command line's syntax (key=value, double quotes
// grouping), one or more per line, '#' starting a comment outside quotes;
// blank lines are skipped. It is applied over the image's config.json and
// the kernel command line: launch-time settings win, as with cloud-init.
//
// Every word must be a keel.* setting: user data meant for something else
// (a cloud-init script) is refused rather than half-read, and so is an
// unknown or malformed key, with the line and the key named. Credentials
// never come from user data, which every process on the instance can
// read through IMDS.

// MaxUserData is EC2's limit on user data: 16 KiB.
const MaxUserData = 16 << 10

// ApplyUserData applies the keel.* settings of user data over c.
func (c *Config) ApplyUserData(data []byte) error {
	if len(data) > MaxUserData {
		return fmt.Errorf("user data: %d bytes, more than EC2's %d", len(data), MaxUserData)
	}
	argsSeen := false
	for n, line := range strings.Split(string(data), "\n") {
		n++
		line = stripComment(strings.TrimRight(line, "\r"))
		for w, kv := range SplitCmdline(line) {
			k, v, hasValue := strings.Cut(kv, "=")
			if !strings.HasPrefix(k, "keel.") {
				return fmt.Errorf("user data line %d: word %d is not a keel.KEY=VALUE setting (keel reads only keel.* settings from user data; '#' starts a comment); the keys are:\n%s", n, w+1, CmdlineKeys)
			}
			bad := func(err error) error {
				return fmt.Errorf("user data line %d: %s: %w", n, k, err)
			}
			if !hasValue {
				return fmt.Errorf("user data line %d: %s: want %s=VALUE", n, k, k)
			}
			if k == "keel.logs.credentials" {
				return bad(errors.New("credentials never come from user data, which every process on the instance can read through IMDS: attach an instance profile (its role's credentials come through IMDS) or put a key file in the image (keel fuse -logs.credentials)"))
			}
			if v == "" {
				return bad(errors.New("empty value"))
			}
			if k == "keel.arg" && !argsSeen {
				c.Args, argsSeen = nil, true
			}
			if err := c.applyKey(k, v); errors.Is(err, errUnknownKey) {
				return fmt.Errorf("user data line %d: unknown key %q; the keys are:\n%s", n, k, CmdlineKeys)
			} else if err != nil {
				return bad(err)
			}
		}
	}
	if l := c.Logs; l != nil && (l.Group == "" || l.Stream == "") {
		return errors.New("user data: logs need both a group and a stream (keel.logs.group= and keel.logs.stream=, here or in the image)")
	}
	if l := c.Logs; l != nil && l.Credentials == "" {
		l.Credentials = DefaultCredentials
	}
	return nil
}

// stripComment cuts a line at the first '#' outside double quotes that
// starts the line or follows white space, as a shell does: a '#' inside a
// value (keel.env=URL=http://h/#top) stays.
func stripComment(line string) string {
	inQuote := false
	for i := 0; i < len(line); i++ {
		switch b := line[i]; {
		case b == '"':
			inQuote = !inQuote
		case b == '#' && !inQuote && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return line[:i]
		}
	}
	return line
}

// UserDataLine writes one keel.KEY=VALUE setting as a line of user data
// that ApplyUserData reads back as that setting: quoted when it holds
// white space or '#'. keel run's local IMDS and keel run -env's EC2 launch
// both write user data with it, so that the writer and the reader are one
// format.
func UserDataLine(setting string) string {
	if strings.ContainsAny(setting, " \t\n\r\v\f#\u00a0") {
		return `"` + setting + "\"\n"
	}
	return setting + "\n"
}
