package bootcfg

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keelvm/keel/internal/cwlname"
	"github.com/keelvm/keel/shipper/redact"
)

// The checks of single values, shared by the file and the command line.
// Each returns why a value is wrong, in words the caller prefixes with the
// key and the value.

func checkAbs(v string) error {
	if !filepath.IsAbs(v) {
		return errors.New("want an absolute path")
	}
	return nil
}

// oneOf accepts exactly the given words, and says which they are.
func oneOf(words ...string) func(string) error {
	want := "use " + strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
	return func(v string) error {
		if slices.Contains(words, v) {
			return nil
		}
		return errors.New(want)
	}
}

var checkRestart = oneOf("always", "on-failure", "never")

var checkHalt = oneOf("poweroff", "reboot")

var checkWait = oneOf("network", "none")

func checkNet(v string) error {
	_, err := ParseNet(v)
	return err
}

func checkEnv(v string) error {
	k, _, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return errors.New("want NAME=VALUE")
	}
	return nil
}

// The names below are checked with loops, not regular expressions: init
// links this package, and compiling `{1,512}` alone cost a TCG guest 28 ms
// of every boot before main.

// isModuleName: a module as modprobe names it (dashes and underscores are
// the same to the kernel).
func isModuleName(v string) bool {
	return v != "" && allOf(v, func(c byte) bool { return isAlnum(c) || c == '_' || c == '-' })
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func allOf(v string, ok func(byte) bool) bool {
	for i := 0; i < len(v); i++ {
		if !ok(v[i]) {
			return false
		}
	}
	return true
}

func checkModule(v string) error {
	if filepath.IsAbs(v) && strings.HasSuffix(v, ".ko") || isModuleName(v) {
		return nil
	}
	return errors.New("want a module name (virtio_net) or the absolute path of a .ko file")
}

// CloudWatch Logs' own retention values, so that a typo fails at boot and
// not at the group's creation.
var (
	retentions = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)

// isRegionName: two lowercase letters, one or more -part of lowercase
// letters and digits, and a last -part of digits: us-east-1, us-gov-west-1.
func isRegionName(v string) bool {
	parts := strings.Split(v, "-")
	if len(parts) < 3 || len(parts[0]) != 2 || !allOf(parts[0], func(c byte) bool { return 'a' <= c && c <= 'z' }) {
		return false
	}
	for _, p := range parts[1 : len(parts)-1] {
		if p == "" || !allOf(p, func(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }) {
			return false
		}
	}
	last := parts[len(parts)-1]
	return last != "" && allOf(last, func(c byte) bool { return '0' <= c && c <= '9' })
}

var checkGroup = cwlname.Group

func checkStream(v string) error {
	if len(v) > 500 {
		return errors.New("want at most 500 characters (the boot stream adds /boot)")
	}
	return cwlname.Stream(v)
}

func checkRegion(v string) error {
	if !isRegionName(v) {
		return errors.New("want a region such as us-east-1")
	}
	return nil
}

func checkEndpoint(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an http:// or https:// URL")
	}
	return nil
}

var checkFormat = oneOf("json", "text")

func checkRetention(days int32) error {
	if !slices.Contains(retentions, days) {
		return fmt.Errorf("CloudWatch Logs allows %v days", retentions)
	}
	return nil
}

// CheckRetentionDays checks a retention given as a flag: 0 (never expire)
// or one of the values CloudWatch Logs allows.
func CheckRetentionDays(days int) error {
	if days == 0 {
		return nil
	}
	if days < 0 || days > math.MaxInt32 {
		return fmt.Errorf("%d days: CloudWatch Logs allows %v days, or 0 for never", days, retentions)
	}
	if err := checkRetention(int32(days)); err != nil {
		return fmt.Errorf("%d days: %w, or 0 for never", days, err)
	}
	return nil
}

func parseRetention(v string) (int32, error) {
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, errors.New("want a number of days")
	}
	return int32(n), checkRetention(int32(n))
}

func checkRedaction(off, user []string) error {
	_, err := redact.New(off, user)
	return err
}

// rlimitNames are the resources as prlimit(1) names them.
var rlimitNames = []string{"as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue",
	"nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"}

func checkRlimitName(name string) error {
	if !slices.Contains(rlimitNames, name) {
		return fmt.Errorf("no such resource limit; use one of %s", strings.Join(rlimitNames, ", "))
	}
	return nil
}

// Unlimited is RLIM_INFINITY.
const Unlimited = ^uint64(0)

// ParseRlimit parses "N" (soft and hard), "SOFT:HARD" or "unlimited" for
// either.
func ParseRlimit(v string) (soft, hard uint64, err error) {
	one := func(s string) (uint64, error) {
		if s == "unlimited" || s == "infinity" {
			return Unlimited, nil
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, errors.New("want N, SOFT:HARD or unlimited")
		}
		return n, nil
	}
	s, h, two := strings.Cut(v, ":")
	if soft, err = one(s); err != nil {
		return 0, 0, err
	}
	hard = soft
	if two {
		if hard, err = one(h); err != nil {
			return 0, 0, err
		}
	}
	if soft > hard {
		return 0, 0, fmt.Errorf("soft limit %d above hard limit %d", soft, hard)
	}
	return soft, hard, nil
}

// Duration is a time.Duration written as text ("10s", "1m30s") in JSON.
type Duration time.Duration

// MarshalJSON writes d as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "10s" or a number of seconds. Its errors are
// *json.UnmarshalTypeError, the one kind encoding/json adds the field's
// name to: "grace" must appear in the message, not only the bad value.
func (d *Duration) UnmarshalJSON(b []byte) error {
	bad := func(why string) error {
		return &json.UnmarshalTypeError{Value: fmt.Sprintf("%s (%s)", b, why), Type: reflect.TypeFor[Duration]()}
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		// Beyond time.Duration's range the conversion would wrap to a
		// value the user never wrote (a negative one for 1e300).
		if err := json.Unmarshal(b, &secs); err != nil || secs <= 0 || secs > maxSeconds {
			return bad(fmt.Sprintf("want text such as \"10s\" or a number of seconds above 0 and up to %d", int64(maxSeconds)))
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := parseDuration(s)
	if err != nil {
		return bad(err.Error())
	}
	*d = Duration(v)
	return nil
}

// maxSeconds is the longest Duration in seconds, about 292 years.
const maxSeconds = float64(math.MaxInt64 / int64(time.Second))

func (d Duration) String() string { return time.Duration(d).String() }

// parseDuration refuses 0 as well as what does not parse: 0 is how an
// unset duration reads, and would silently become the default (a grace
// of 0 would not be an immediate SIGKILL but 10 s).
func parseDuration(s string) (time.Duration, error) {
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return 0, errors.New("want a duration such as 10s or 1m30s")
	}
	if v == 0 {
		return 0, errors.New("want a duration above 0, such as 10s (1ms for at once; leave the key out for the default)")
	}
	return v, nil
}
