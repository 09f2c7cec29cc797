package bootcfg

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// base is an image's configuration as Load returns it: file, command
// line, defaults.
func base(t *testing.T) Config {
	t.Helper()
	c, err := Load([]byte(`{"app":"/app/x","env":["A=1"],"logs":{"group":"keel/dev","stream":"alice/hello"}}`), "keel.wait=network")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestApplyUserData(t *testing.T) {
	good := []struct {
		name, data string
		change     func(*Config)
	}{
		{"empty", "", func(*Config) {}},
		{"comments and blank lines", "# keel settings\n\n   # indented comment\n", func(*Config) {}},
		{"one per line", "keel.logs.group=keel/prod\nkeel.logs.endpoint=http://169.254.0.100:4566\n", func(c *Config) {
			c.Logs.Group, c.Logs.Endpoint = "keel/prod", "http://169.254.0.100:4566"
		}},
		{"several on a line, comment after", "keel.env=A=2 keel.env=B=3 # launch-time env\r\n", func(c *Config) {
			c.Env = []string{"A=2", "B=3"}
		}},
		{"quotes group, a # inside a value stays", `"keel.env=GREETING=hello # world" keel.env=URL=http://h/#top`, func(c *Config) {
			c.Env = []string{"A=1", "GREETING=hello # world", "URL=http://h/#top"}
		}},
		{"launch time wins over the command line", "keel.wait=none\nkeel.logs.region=eu-west-3", func(c *Config) {
			c.Wait, c.Logs.Region = "none", "eu-west-3"
		}},
		{"args replace the image's", "keel.arg=-v keel.arg=--port=8080", func(c *Config) { c.Args = []string{"-v", "--port=8080"} }},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			got, want := base(t), base(t)
			tc.change(&want)
			if err := got.ApplyUserData([]byte(tc.data)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
		})
	}
	// The errors go to the boot log, which is shipped: they name the line
	// and the key, never a value (a cloud-init secret, a keel.env value).
	bad := []struct {
		name, data string
		want       []string
		secret     string // must not be in the error
	}{
		{"unknown key", "keel.logs.group=keel/dev\nkeel.bogus=s3cret", []string{"user data line 2", `unknown key "keel.bogus"`}, "s3cret"},
		{"malformed value", "keel.wait=sometimes", []string{"user data line 1", "keel.wait: ", "network or none"}, "sometimes"},
		{"malformed env", "keel.env=hunter2", []string{"user data line 1", "keel.env: ", "NAME=VALUE"}, "hunter2"},
		{"no value", "keel.app", []string{"line 1", `want keel.app=VALUE`}, ""},
		{"empty value", "keel.app=", []string{"line 1", "empty value"}, ""},
		{"not a keel setting", "#!/bin/bash\necho hi", []string{"line 2: word 1 is not a keel.KEY=VALUE setting"}, "echo"},
		{"cloud-init secret", "keel.app=/app password: hunter2", []string{"line 1: word 2 is not a keel.KEY=VALUE setting"}, "password"},
		{"credentials refused", "keel.logs.credentials=/etc/keel/credentials", []string{"keel.logs.credentials", "never come from user data"}, "/etc/keel/credentials"},
		{"bad region", "keel.logs.region=Mars", []string{"keel.logs.region", "us-east-1"}, "Mars"},
		{"too big", strings.Repeat("#", MaxUserData+1), []string{"more than EC2's"}, ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := base(t)
			err := c.ApplyUserData([]byte(tc.data))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error %q quotes the value %q", err, tc.secret)
			}
		})
	}
}

// TestUserDataAddsLogs: an image fused without logs ships once user data
// names a group and a stream; one without the other is refused.
func TestUserDataAddsLogs(t *testing.T) {
	c, err := Load([]byte(`{"app":"/a"}`), "")
	if err != nil {
		t.Fatal(err)
	}
	half := c
	if err := half.ApplyUserData([]byte("keel.logs.group=keel/dev")); err == nil || !strings.Contains(err.Error(), "both a group and a stream") {
		t.Fatalf("group alone: %v", err)
	}
	if err := c.ApplyUserData([]byte("keel.logs.group=keel/dev keel.logs.stream=a/b")); err != nil {
		t.Fatal(err)
	}
	if c.Logs == nil || c.Logs.Credentials != DefaultCredentials {
		t.Fatalf("logs %+v", c.Logs)
	}
}

// TestUserDataLineRoundTrip: what keel run and keel run -env write as user
// data is read back by the init as the same settings.
func TestUserDataLineRoundTrip(t *testing.T) {
	sets := []string{"keel.env=GREETING=hello world", "keel.env=TAG=#1", "keel.arg=--name", "keel.arg=a\tb", "keel.logs.group=keel/prod", "keel.logs.stream=u/a"}
	var data string
	for _, s := range sets {
		data += UserDataLine(s)
	}
	var c Config
	if err := c.ApplyUserData([]byte(data)); err != nil {
		t.Fatalf("%q: %v", data, err)
	}
	if want := []string{"GREETING=hello world", "TAG=#1"}; !slices.Equal(c.Env, want) {
		t.Errorf("env %q, want %q", c.Env, want)
	}
	if want := []string{"--name", "a\tb"}; !slices.Equal(c.Args, want) {
		t.Errorf("args %q, want %q", c.Args, want)
	}
}
