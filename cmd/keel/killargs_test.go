package main

import (
	"strings"
	"testing"
)

// TestParseKill: keel kill's one ID, before or after the flags, as both
// kill commands (a local VM, an EC2 instance) take it.
func TestParseKill(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		id       string
		force    bool
		env, err string
	}{
		{[]string{"i-1"}, "i-1", false, "", ""},
		{[]string{"i-1", "-force"}, "i-1", true, "", ""},
		{[]string{"-force", "i-1"}, "i-1", true, "", ""},
		{[]string{"-env", "prod", "i-1"}, "i-1", false, "prod", ""},
		{[]string{"i-1", "-env", "prod", "-force"}, "i-1", true, "prod", ""},
		{[]string{"-force"}, "", true, "", ""},
		{nil, "", false, "", ""},
		{[]string{"i-1", "i-2"}, "", false, "", `unexpected argument "i-2": keel kill stops one VM (keel kill [-force] ID)`},
		{[]string{"-force", "i-1", "i-2"}, "", false, "", `unexpected argument "i-2"`},
		{[]string{"-nope", "i-1"}, "", false, "", "usage"},
	} {
		fs := newFlags("kill", "kill [-force] ID", "")
		fs.SetOutput(new(strings.Builder))
		force := fs.Bool("force", false, "")
		env := fs.String("env", "", "")
		id, err := parseKill(fs, tc.args, "VM", "kill [-force] ID")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || id != tc.id || *force != tc.force || *env != tc.env {
			t.Errorf("%q: id %q force %v env %q err %v; want %q %v %q", tc.args, id, *force, *env, err, tc.id, tc.force, tc.env)
		}
	}
}
