package bootcfg

import (
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	cases := []struct {
		file, cmdline string
		want          Config
		err           string
	}{
		{`{"app":"/app/x","args":["a"]}`, "console=ttyS0", Config{App: "/app/x", Args: []string{"a"}, Net: "dhcp"}, ""},
		{`{"app":"/app/x"}`, "keel.app=/app/y keel.net=none", Config{App: "/app/y", Net: "none"}, ""},
		{``, "keel.app=/a", Config{App: "/a", Net: "dhcp"}, ""},
		{``, "", Config{}, "no app configured"},
		{`{"app":"/a","bogus":1}`, "", Config{}, `unknown field "bogus"`},
		{`{"app":"/a"}`, "keel.restart=sometimes", Config{}, `keel.restart="sometimes"`},
		{`{"app":"/a"}`, "keel.colour=blue", Config{}, `unknown key "keel.colour"`},
		{`{"app":"/a"}`, "keel.net=wifi", Config{}, `keel.net="wifi"`},
	}
	for _, tc := range cases {
		got, err := Load([]byte(tc.file), tc.cmdline)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q %q: err %v, want %q", tc.file, tc.cmdline, err, tc.err)
			}
			continue
		}
		if err != nil || got.App != tc.want.App || got.Net != tc.want.Net || len(got.Args) != len(tc.want.Args) {
			t.Errorf("%q %q: got %+v %v", tc.file, tc.cmdline, got, err)
		}
	}
}
