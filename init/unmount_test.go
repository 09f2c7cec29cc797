package main

import "testing"

func TestUnescapeMount(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/proc", "/proc"},
		{`/mnt/my\040disk`, "/mnt/my disk"},
		{`/a\011b\012c\134d`, "/a\tb\nc\\d"},
		{`/trailing\04`, `/trailing\04`},
		{`/not\999octal`, `/not\999octal`},
	}
	for _, tc := range cases {
		if got := unescapeMount(tc.in); got != tc.want {
			t.Errorf("unescapeMount(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
