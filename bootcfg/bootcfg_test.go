package bootcfg

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// defaults fills in what Load adds to every configuration.
func defaults(c Config) Config {
	c.setDefaults()
	return c
}

func TestLoad(t *testing.T) {
	cases := []struct {
		name, file, cmdline string
		want                Config
	}{
		{"file only", `{"app":"/app/x","args":["a"]}`, "console=ttyS0",
			defaults(Config{App: "/app/x", Args: []string{"a"}})},
		{"command line over file", `{"app":"/app/x"}`, "keel.app=/app/y keel.net=none",
			defaults(Config{App: "/app/y", Net: "none"})},
		{"command line only", ``, "keel.app=/a", defaults(Config{App: "/a"})},
		{"args replace the file's", `{"app":"/a","args":["x","y"]}`, `keel.arg=1 keel.arg="two words"`,
			defaults(Config{App: "/a", Args: []string{"1", "two words"}})},
		{"env merges by name", `{"app":"/a","env":["A=1","B=2"]}`, `keel.env=B=3 "keel.env=C=x y"`,
			defaults(Config{App: "/a", Env: []string{"A=1", "B=3", "C=x y"}})},
		{"process keys", `{"app":"/a"}`, "keel.dir=/srv keel.user=app keel.group=staff keel.restart=on-failure keel.grace=3s keel.flush_timeout=1m keel.halt=reboot keel.wait=none",
			defaults(Config{App: "/a", Dir: "/srv", User: "app", Group: "staff", Restart: "on-failure",
				Grace: Duration(3 * time.Second), FlushTimeout: Duration(time.Minute), Halt: "reboot", Wait: "none"})},
		{"durations in the file", `{"app":"/a","grace":"2s","flush_timeout":5}`, "",
			defaults(Config{App: "/a", Grace: Duration(2 * time.Second), FlushTimeout: Duration(5 * time.Second)})},
		{"modules append", `{"app":"/a","modules":["/lib/modules/x/virtio.ko"]}`, "keel.modules=e1000,ahci",
			defaults(Config{App: "/a", Modules: []string{"/lib/modules/x/virtio.ko", "e1000", "ahci"}})},
		{"rlimits", `{"app":"/a","rlimits":{"core":"0"}}`, "keel.rlimit.nofile=1024:4096 keel.rlimit.memlock=unlimited",
			defaults(Config{App: "/a", Rlimits: map[string]string{"core": "0", "nofile": "1024:4096", "memlock": "unlimited"}})},
		{"static network", `{"app":"/a"}`, "keel.net=static:10.0.2.15/24,10.0.2.2,1.1.1.1",
			defaults(Config{App: "/a", Net: "static:10.0.2.15/24,10.0.2.2,1.1.1.1"})},
		{"logs from the command line", `{"app":"/a"}`, "keel.logs.group=keel/dev keel.logs.stream=alice/hello keel.logs.region=eu-west-1 keel.logs.endpoint=http://10.0.2.100:4566 keel.logs.format=text keel.logs.image=alice/hello:1 keel.logs.retention=7 keel.logs.redact.off=bearer-token keel.logs.redact=tok-[0-9]+",
			defaults(Config{App: "/a", Logs: &Logs{Group: "keel/dev", Stream: "alice/hello", Region: "eu-west-1",
				Endpoint: "http://10.0.2.100:4566", Format: "text", Image: "alice/hello:1", Retention: 7,
				RedactOff: []string{"bearer-token"}, Redact: []string{"tok-[0-9]+"}}})},
		{"multiline and event size", `{"app":"/a","logs":{"group":"g","stream":"s","multiline":"off","event_max":300000}}`,
			`keel.logs.multiline="^\d{4}-\d\d " keel.logs.event.max=262118`,
			defaults(Config{App: "/a", Logs: &Logs{Group: "g", Stream: "s", Multiline: `^\d{4}-\d\d `, EventMax: 262118}})},
		{"init's arguments after --", `{"app":"/a"}`, "keel.net=none -- keel.colour=blue keel.net=dhcp",
			defaults(Config{App: "/a", Net: "none"})},
		{"logs over the file's", `{"app":"/a","logs":{"group":"g","stream":"s","credentials":"/etc/c"}}`, "keel.logs.stream=t",
			defaults(Config{App: "/a", Logs: &Logs{Group: "g", Stream: "t", Credentials: "/etc/c"}})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Load([]byte(tc.file), tc.cmdline)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v %+v\nwant %+v %+v", got, got.Logs, tc.want, tc.want.Logs)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		file, cmdline string
		want          string // in the error: the key and the offending text
	}{
		{``, "", "no app configured"},
		{`{"app":"/a","bogus":1}`, "", `unknown field "bogus"`},
		{`{"app":"a"}`, "", `config.json: app "a": want an absolute path`},
		{`{"app":"/a","restart":"sometimes"}`, "", `restart "sometimes"`},
		{`{"app":"/a","net":"wifi"}`, "", `net "wifi"`},
		{`{"app":"/a","app_disk":{"fs":"ext4","serial":"s","size":1}}`, "", `app_disk.fs "ext4": use squashfs or erofs`},
		{`{"app":"/a","app_disk":{"fs":"squashfs","size":1}}`, "", `app_disk: give serial or partname`},
		{`{"app":"/a","app_disk":{"fs":"squashfs","serial":"s","size":0}}`, "", `app_disk.size 0`},
		{`{"app":"/a","app_disk":{"fs":"squashfs","serial":"s","size":1,"writable":["app"]}}`, "", `app_disk.writable "app"`},
		{`{"app":"/a","grace":"soon"}`, "", `"soon" (want a duration such as 10s or 1m30s) into Go struct field Config.grace`},
		{`{"app":"/a","flush_timeout":true}`, "", `Config.flush_timeout`},
		{`{"app":"/a"} {"app":"/b"}`, "", `more after the configuration's closing brace`},
		// encoding/json's More is false before a stray '}' or ']' at the top.
		{`{"app":"/a"}}`, "", `more after the configuration's closing brace`},
		{"{\"app\":\"/a\"}\n]\n", "", `more after the configuration's closing brace`},
		// Seconds beyond time.Duration's range: the text as written, not a wrapped value.
		{`{"app":"/a","grace":1e300}`, "", `1e300 (want text such as "10s" or a number of seconds above 0 and up to`},
		{`{"app":"/a","env":["NOVALUE"]}`, "", `env "NOVALUE": want NAME=VALUE`},
		{`{"app":"/a","rlimits":{"files":"1"}}`, "", `rlimits "files"`},
		{`{"app":"/a","logs":{"group":"g","stream":"s","format":"xml"}}`, "", `logs.format "xml"`},
		{`{"app":"/a","logs":{"group":"g","stream":"s","retention":8}}`, "", `logs.retention 8`},
		{`{"app":"/a","logs":{"group":"g"}}`, "", "logs need both a group and a stream"},
		{`{"app":"/a"}`, "keel.restart=sometimes", `keel.restart="sometimes": use always, on-failure or never`},
		{`{"app":"/a"}`, "keel.colour=blue", `unknown key "keel.colour" (in "keel.colour=blue")`},
		{`{"app":"/a"}`, "keel.logs.colour=blue", `unknown key "keel.logs.colour"`},
		{`{"app":"/a"}`, "keel.net=wifi", `keel.net="wifi"`},
		{`{"app":"/a"}`, "keel.net=static:10.0.2.15", `keel.net="static:10.0.2.15": static address "10.0.2.15"`},
		{`{"app":"/a"}`, "keel.net=static:10.0.2.15/24,gw", `gateway "gw"`},
		{`{"app":"/a"}`, "keel.net=static:10.0.2.15/24,10.0.2.2,dns", `DNS server "dns"`},
		{`{"app":"/a"}`, "keel.net=static:10.0.2.15/24,fe80::1", `different families`},
		{`{"app":"/a"}`, "keel.app=relative", `keel.app="relative": want an absolute path`},
		{`{"app":"/a"}`, "keel.app", `"keel.app": want keel.app=VALUE`},
		{`{"app":"/a"}`, "keel.user=", `keel.user="": empty value`},
		{`{"app":"/a"}`, "keel.env=NOEQUALS", `keel.env="NOEQUALS": want NAME=VALUE`},
		{`{"app":"/a"}`, "keel.grace=10", `keel.grace="10": want a duration`},
		{`{"app":"/a"}`, "keel.flush_timeout=-1s", `keel.flush_timeout="-1s"`},
		// 0 reads as unset: it would become the default, not "at once".
		{`{"app":"/a"}`, "keel.grace=0s", `keel.grace="0s": want a duration above 0`},
		{`{"app":"/a","flush_timeout":0}`, "", `0 (want text such as "10s" or a number of seconds above 0`},
		{`{"app":"/a","grace":"0"}`, "", `want a duration above 0`},
		{`{"app":"/a"}`, "keel.wait=forever", `keel.wait="forever": use network or none`},
		{`{"app":"/a"}`, "keel.halt=explode", `keel.halt="explode": use poweroff or reboot`},
		{`{"app":"/a"}`, "keel.modules=virtio_net,../x", `keel.modules="virtio_net,../x": module "../x"`},
		{`{"app":"/a"}`, "keel.rlimit.nofile=lots", `keel.rlimit.nofile="lots": want N, SOFT:HARD or unlimited`},
		{`{"app":"/a"}`, "keel.rlimit.nofile=10:5", `soft limit 10 above hard limit 5`},
		{`{"app":"/a"}`, "keel.rlimit.files=5", `keel.rlimit.files="5": no such resource limit`},
		{`{"app":"/a"}`, "keel.logs.group=a:b", `keel.logs.group="a:b"`},
		{`{"app":"/a"}`, "keel.logs.region=mars", `keel.logs.region="mars"`},
		{`{"app":"/a"}`, "keel.logs.endpoint=10.0.2.100:4566", `keel.logs.endpoint="10.0.2.100:4566": want an http`},
		{`{"app":"/a"}`, "keel.logs.format=xml", `keel.logs.format="xml"`},
		{`{"app":"/a"}`, "keel.logs.retention=8", `keel.logs.retention="8"`},
		{`{"app":"/a"}`, "keel.logs.redact.off=everything", `keel.logs.redact.off="everything"`},
		{`{"app":"/a"}`, "keel.logs.redact=(", `keel.logs.redact="("`},
		{`{"app":"/a"}`, "keel.logs.multiline=(", `keel.logs.multiline="(": not auto, off or a valid regular expression`},
		{`{"app":"/a"}`, "keel.logs.multiline=a*", `keel.logs.multiline="a*": the expression matches an empty line`},
		{`{"app":"/a","logs":{"group":"g","stream":"s","multiline":"[x"}}`, "", `logs.multiline: not auto, off or a valid regular expression`},
		{`{"app":"/a"}`, "keel.logs.event.max=1048551", `keel.logs.event.max="1048551": 1048551 bytes: want 256 to 1048550`},
		{`{"app":"/a"}`, "keel.logs.event.max=1MB", `keel.logs.event.max="1MB": want a number of bytes`},
		{`{"app":"/a","logs":{"group":"g","stream":"s","event_max":10}}`, "", `logs.event_max: 10 bytes: want 256 to 1048550`},
		{`{"app":"/a"}`, "keel.logs.credentials=/etc/c", `keel.logs.credentials="/etc/c": credentials never come from the kernel command line`},
		{`{"app":"/a"}`, "keel.logs.group=g", "logs need both a group and a stream"},
	}
	for _, tc := range cases {
		t.Run(tc.cmdline+tc.file, func(t *testing.T) {
			_, err := Load([]byte(tc.file), tc.cmdline)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSplitCmdline(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"console=ttyS0 panic=-1\n", []string{"console=ttyS0", "panic=-1"}},
		{`keel.env="A=b c"  "keel.arg=x y" q`, []string{"keel.env=A=b c", "keel.arg=x y", "q"}},
		{`keel.arg=""`, []string{"keel.arg="}},
		{"", nil},
		// The kernel's isspace: \r (a boot entry written with CRLF), \v, \f.
		{"keel.app=/a\r\nkeel.net=none\r\n", []string{"keel.app=/a", "keel.net=none"}},
		{"a\vb\fc", []string{"a", "b", "c"}},
		// Bytes as they are: a Latin-1 value is not UTF-8, and must not
		// become U+FFFD.
		{"keel.env=NAME=caf\xe9 x", []string{"keel.env=NAME=caf\xe9", "x"}},
		// 0xa0 is white space to the kernel, even as the second byte of
		// UTF-8's "\u00e0": keel sees the parameters the kernel saw.
		{"keel.env=X=\xc3\xa0b", []string{"keel.env=X=\xc3", "b"}},
	}
	for _, tc := range cases {
		if got := SplitCmdline(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitCmdline(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseNet(t *testing.T) {
	cases := []struct {
		in   string
		want Network
	}{
		{"dhcp", Network{Mode: "dhcp"}},
		{"none", Network{Mode: "none"}},
		{"static:10.0.2.15/24", Network{Mode: "static", Addr: netip.MustParsePrefix("10.0.2.15/24")}},
		{"static:10.0.2.15/24,10.0.2.2", Network{Mode: "static", Addr: netip.MustParsePrefix("10.0.2.15/24"), Gateway: netip.MustParseAddr("10.0.2.2")}},
		{"static:10.0.0.5/16,,1.1.1.1,8.8.8.8", Network{Mode: "static", Addr: netip.MustParsePrefix("10.0.0.5/16"),
			DNS: []netip.Addr{netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("8.8.8.8")}}},
	}
	for _, tc := range cases {
		got, err := ParseNet(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseNet(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseRlimit(t *testing.T) {
	cases := []struct {
		in         string
		soft, hard uint64
		ok         bool
	}{
		{"1024", 1024, 1024, true},
		{"1024:4096", 1024, 4096, true},
		{"0:unlimited", 0, Unlimited, true},
		{"unlimited", Unlimited, Unlimited, true},
		{"4096:1024", 0, 0, false},
		{"-1", 0, 0, false},
		{"1k", 0, 0, false},
	}
	for _, tc := range cases {
		s, h, err := ParseRlimit(tc.in)
		if (err == nil) != tc.ok || s != tc.soft || h != tc.hard {
			t.Errorf("ParseRlimit(%q) = %d, %d, %v", tc.in, s, h, err)
		}
	}
}

// TestMarshalRoundTrip: what the image builder writes, init reads back.
func TestMarshalRoundTrip(t *testing.T) {
	c := defaults(Config{App: "/a", Args: []string{"x"}, Env: []string{"A=1"}, Net: "static:10.0.0.2/24,10.0.0.1",
		Grace: Duration(3 * time.Second), Logs: &Logs{Group: "g", Stream: "s", Retention: 30, RedactOff: []string{"bearer-token"}}})
	got, err := Load(c.Marshal(), "")
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip: %+v %v\n%s", got, err, c.Marshal())
	}
	if !strings.Contains(string(c.Marshal()), `"grace": "3s"`) {
		t.Fatalf("grace not written as text:\n%s", c.Marshal())
	}
}

func TestCheckRetentionDays(t *testing.T) {
	for _, tc := range []struct {
		days int
		want string // "" for none
	}{
		{0, ""}, {1, ""}, {14, ""}, {3653, ""},
		{2, "2 days: CloudWatch Logs allows"},
		{-1, "-1 days: CloudWatch Logs allows"},
		{1 << 32, "4294967296 days: CloudWatch Logs allows"},
	} {
		err := CheckRetentionDays(tc.days)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckRetentionDays(%d) = %v, want %q", tc.days, err, tc.want)
		}
	}
}
