package main

import (
	"reflect"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/keelvm/keel/internal/bootcfg"
	"github.com/keelvm/keel/supervisor"
)

func TestAppEnv(t *testing.T) {
	cases := []struct {
		in, want []string
	}{
		{nil, nil}, // the supervisor's default: PATH and HOME
		{[]string{"A=1"}, []string{defaultPath, "A=1"}},
		{[]string{"PATH=/app", "A=1"}, []string{"PATH=/app", "A=1"}},
	}
	for _, tc := range cases {
		if got := appEnv(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("appEnv(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRlimits(t *testing.T) {
	got, err := rlimits(map[string]string{"nofile": "1024:4096", "core": "0", "memlock": "unlimited"})
	want := []supervisor.Rlimit{
		{Resource: unix.RLIMIT_CORE, Cur: 0, Max: 0},
		{Resource: unix.RLIMIT_MEMLOCK, Cur: bootcfg.Unlimited, Max: bootcfg.Unlimited},
		{Resource: unix.RLIMIT_NOFILE, Cur: 1024, Max: 4096},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v %v", got, err)
	}
	if _, err := rlimits(map[string]string{"files": "1"}); err == nil {
		t.Fatal("an unknown resource was accepted")
	}
}
