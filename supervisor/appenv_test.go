package supervisor

import (
	"reflect"
	"testing"
)

// TestAppEnv: PATH and HOME are added when the environment lacks them, and
// only then: one configured variable must not cost the app its HOME.
func TestAppEnv(t *testing.T) {
	cases := []struct {
		in, want []string
	}{
		{nil, []string{defaultPath, "HOME=/home/app"}},
		{[]string{"A=1"}, []string{defaultPath, "A=1", "HOME=/home/app"}},
		{[]string{"PATH=/app", "A=1"}, []string{"PATH=/app", "A=1", "HOME=/home/app"}},
		{[]string{"HOME=/data", "A=1"}, []string{defaultPath, "HOME=/data", "A=1"}},
		{[]string{"A=1", "HOME=", "PATH="}, []string{"A=1", "HOME=", "PATH="}}, // set empty on purpose
	}
	for _, tc := range cases {
		if got := appEnv(tc.in, "/home/app"); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("appEnv(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
