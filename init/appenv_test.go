package main

import (
	"reflect"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/supervisor"
)

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
