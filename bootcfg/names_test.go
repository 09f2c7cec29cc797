package bootcfg

import (
	"regexp"
	"strings"
	"testing"
)

// The hand-written name checks accept exactly what the patterns they
// replace accepted.
func TestNameChecksMatchTheirPatterns(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pattern string
		check   func(string) bool
		inputs  []string
	}{
		{"module", `^[A-Za-z0-9_-]+$`, isModuleName,
			[]string{"", "virtio_net", "virtio-net", "e1000", "a.b", "x/y", "ümlaut", "-", "A_z-9"}},
		{"group", `^[A-Za-z0-9._/#-]{1,512}$`, func(v string) bool { return checkGroup(v) == nil },
			[]string{"", "keel/dev", "a#b.c_d-e", "a b", "a:b", "ü", strings.Repeat("g", 512), strings.Repeat("g", 513)}},
		{"region", `^[a-z]{2}(-[a-z0-9]+)+-[0-9]+$`, isRegionName,
			[]string{"", "us-east-1", "us-gov-west-1", "eu-central-12", "us-east", "us--1", "use-east-1", "US-east-1",
				"us-east-1a", "us-east-", "-east-1", "us-1", "cn-north-1", "ap-southeast-2"}},
	} {
		re := regexp.MustCompile(tc.pattern)
		for _, in := range tc.inputs {
			if got, want := tc.check(in), re.MatchString(in); got != want {
				t.Errorf("%s %q: got %v, the pattern %s says %v", tc.name, in, got, tc.pattern, want)
			}
		}
	}
}
