package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/keelvm/keel/internal/testutil"
	"github.com/keelvm/keel/logserver/auth"
)

// The test binary doubles as keel, so that `-daemon` (which re-executes
// its own binary) is tested for real.
func TestMain(m *testing.M) {
	if os.Getenv("KEEL_TEST_AS_KEEL") == "1" {
		os.Exit(run(os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}

type result struct {
	code           int
	stdout, stderr string
}

func keel(t *testing.T, home string, args ...string) result {
	t.Helper()
	return keelEnv(t, home, nil, args...)
}

// keelEnv runs keel with extra environment variables.
func keelEnv(t *testing.T, home string, extra []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(cleanEnv(), "KEEL_TEST_AS_KEEL=1", "KEEL_HOME="+home,
		"AWS_CONFIG_FILE="+filepath.Join(home, "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "no-aws-credentials"))
	cmd.Env = append(cmd.Env, extra...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func TestHelpAndUsageErrors(t *testing.T) {
	home := t.TempDir()
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"help"}, 0, "logserver"},
		{[]string{"help", "logserver"}, 0, "-auth"},
		{[]string{"logserver", "-h"}, 0, "-daemon"},
		{[]string{"logserver", "key", "create", "-h"}, 0, "-stream.prefix"},
		{[]string{}, 2, "Usage"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"logserver", "-nope"}, 2, "flag provided but not defined: -nope"},
		{[]string{"logserver", "-auth", "maybe"}, 1, `-auth="maybe": use sigv4 or none`},
		{[]string{"logserver", "key", "create"}, 1, "-name is required"},
		{[]string{"logserver", "key", "create", "-name", "x", "-stream.prefix", "p"}, 1, "give -group too"},
		{[]string{"logserver", "status"}, 1, "no log server is running"},
		{[]string{"logserver", "status", "extra"}, 1, `unexpected argument "extra": keel logserver status takes none`},
		{[]string{"logserver", "stop", "now"}, 1, `unexpected argument "now": keel logserver stop takes none`},
		{[]string{"ps", "-a"}, 2, "flag provided but not defined: -a"},
		{[]string{"ps", "all"}, 1, `unexpected argument "all": keel ps takes none`},
		{[]string{"kill", "abc", "def"}, 1, `unexpected argument "def": keel kill stops one VM`},
		{[]string{"logserver", "stop"}, 1, "no log server is running"},
		{[]string{"ship", "-group", "g", "-stream", "s", "-logs.event.max", "2000000", "--", "true"}, 1, "-logs.event.max=2000000: want 256 to 1048550 bytes"},
		{[]string{"ship", "-group", "g", "-stream", "s", "-logs.buffer", "0", "--", "true"}, 1, "-logs.buffer=0: want at least 1 MiB"},
		{[]string{"ship", "-group", "g", "-stream", "s", "-logs.multiline", "^(2026", "--", "true"}, 1, `-logs.multiline: multiline "^(2026": not auto, off or a valid regular expression`},
		{[]string{"fuse", "/bin/true", "-name", "a/b:1", "-logs.multiline", "x*"}, 1, `-logs.multiline: multiline "x*": the expression matches an empty line`},
		{[]string{"fuse", "/bin/true", "-name", "a/b:1", "-logs.event.max", "100"}, 1, "-logs.event.max=100 bytes: want 256 to 1048550"},
		{[]string{"ship", "-group", "g", "-stream", "s", "-logs.retention", "2", "--", "true"}, 1, "-logs.retention: 2 days: CloudWatch Logs allows"},
		{[]string{"fuse", "/bin/true", "-name", "a/b:1", "-logs.retention", "4294967297"}, 1, "-logs.retention: 4294967297 days: CloudWatch Logs allows"},
		{[]string{"ship", "-group", "a:b", "-stream", "s", "-region", "us-east-1", "-endpoint", "http://127.0.0.1:1", "--", "true"}, 1, `log group "a:b"`},
	}
	for _, tc := range cases {
		r := keel(t, home, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.want) {
			t.Errorf("keel %v: exit %d, output %q; want exit %d and %q", tc.args, r.code, r.stdout+r.stderr, tc.code, tc.want)
		}
	}
}

func TestLogserverDaemonAndKeys(t *testing.T) {
	home := t.TempDir()
	data := filepath.Join(home, "logserver")
	r := keel(t, home, "logserver", "-daemon", "-addr", "127.0.0.1:0")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "http://127.0.0.1:") || !strings.Contains(r.stderr, "started") {
		t.Fatalf("daemon start: %+v", r)
	}
	endpoint := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { keel(t, home, "logserver", "stop") })
	r = keel(t, home, "logserver", "-daemon", "-addr", "127.0.0.1:0")
	if r.code != 0 || strings.TrimSpace(r.stdout) != endpoint || !strings.Contains(r.stderr, "already running") {
		t.Fatalf("second daemon start: %+v", r)
	}
	r = keel(t, home, "logserver", "-addr", "127.0.0.1:0")
	if r.code != 3 || !strings.Contains(r.stderr, "already running") || !strings.Contains(r.stderr, endpoint) {
		t.Fatalf("foreground start on a used data dir: %+v", r)
	}
	if r = keel(t, home, "logserver", "status"); r.code != 0 || !strings.Contains(r.stdout, "endpoint "+endpoint) {
		t.Fatalf("status: %+v", r)
	}
	if fi, err := os.Stat(filepath.Join(data, "credentials")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin credentials: %v %v", fi, err)
	}

	credFile := filepath.Join(home, "vm.credentials")
	r = keel(t, home, "logserver", "key", "create", "-name", "vm-hello", "-group", "boxfuse/dev", "-stream.prefix", "myuser/hello", "-o", credFile)
	if r.code != 0 {
		t.Fatalf("key create: %+v", r)
	}
	b, err := os.ReadFile(credFile)
	if err != nil || !strings.Contains(string(b), "[default]") || !strings.Contains(string(b), "aws_access_key_id = KEEL") {
		t.Fatalf("credentials file: %q %v", b, err)
	}
	r = keel(t, home, "logserver", "key", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "vm-hello") || !strings.Contains(r.stdout, "CreateLogStream,PutLogEvents on boxfuse/dev/myuser/hello*") || !strings.Contains(r.stdout, "admin") {
		t.Fatalf("key list: %+v", r)
	}
	if strings.Contains(r.stdout, "secret") {
		t.Fatalf("key list shows secrets")
	}
	id := ""
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, "vm-hello") {
			id = strings.Fields(line)[0]
		}
	}
	if r = keel(t, home, "logserver", "key", "delete", id); r.code != 0 {
		t.Fatalf("key delete: %+v", r)
	}
	if r = keel(t, home, "logserver", "key", "list"); strings.Contains(r.stdout, "vm-hello") {
		t.Fatalf("deleted key still listed: %s", r.stdout)
	}
	if r = keel(t, home, "logserver", "stop"); r.code != 0 {
		t.Fatalf("stop: %+v", r)
	}
	if r = keel(t, home, "logserver", "status"); r.code != 1 {
		t.Fatalf("status after stop: %+v", r)
	}
}

func TestLogsCommand(t *testing.T) {
	home := t.TempDir()
	r := keel(t, home, "logserver", "-daemon", "-addr", "127.0.0.1:0")
	if r.code != 0 {
		t.Fatalf("daemon: %+v", r)
	}
	t.Cleanup(func() { keel(t, home, "logserver", "stop") })
	endpoint := strings.TrimSpace(r.stdout)
	c := adminClient(t, filepath.Join(home, "logserver"), endpoint)
	put(t, c, "keel/dev", "alice/web", `{"instance":"i-1","level":"INFO","requestId":"req-1","message":"hello"}`,
		`{"instance":"i-2","level":"ERROR","requestId":"req-2","message":"boom"}`, "plain line")
	put(t, c, "keel/dev", "alice/api", `{"instance":"i-3","level":"INFO","requestId":"req-2","message":"api call"}`)

	cases := []struct {
		args []string
		code int
		want []string
		not  []string
	}{
		{[]string{"logs", "alice/web"}, 0, []string{"INFO  i-1 hello", "ERROR i-2 boom", "plain line"}, []string{"api call"}},
		{[]string{"logs", "web", "-user", "alice", "-level", "ERROR"}, 0, []string{"boom"}, []string{"hello", "plain line"}},
		{[]string{"logs", "-group", "keel/dev", "-stream.prefix", "alice/", "-filter", `{ $.requestId = "req-2" }`}, 0, []string{"boom", "api call"}, []string{"hello"}},
		{[]string{"logs", "alice/web", "-instance", "i-1", "-format", "short"}, 0, []string{"hello"}, []string{"boom"}},
		{[]string{"logs", "alice/web", "-format", "json"}, 0, []string{`"stream":"alice/web"`, `"message":"plain line"`}, nil},
		{[]string{"logs", "alice/nope"}, 1, []string{`has no stream "alice/nope"`, "alice/web"}, nil},
		{[]string{"logs", "alice/web", "-env", "dev2"}, 1, []string{"no AWS region"}, nil},
		{[]string{"logs", "alice/web", "-env", "prod", "-region", "eu-west-1"}, 1, []string{"no AWS credentials"}, nil},
		{[]string{"logs", "alice/web", "-filter", "{ $.x = "}, 1, []string{"column"}, nil},
		{[]string{"logs", "alice/web", "-since", "yesterday"}, 1, []string{"neither a duration"}, nil},
		{[]string{"logs"}, 1, []string{"which app?"}, nil},
	}
	for _, tc := range cases {
		r := keel(t, home, tc.args...)
		all := r.stdout + r.stderr
		if r.code != tc.code {
			t.Errorf("keel %v: exit %d, want %d: %s", tc.args, r.code, tc.code, all)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(all, w) {
				t.Errorf("keel %v: output lacks %q:\n%s", tc.args, w, all)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(all, w) {
				t.Errorf("keel %v: output has %q:\n%s", tc.args, w, all)
			}
		}
	}
}

// TestLogsTail runs `keel logs -logs.tail` while a writer puts events: each
// appears once and in order, and Ctrl-C (SIGINT) ends it with status 0.
func TestLogsTail(t *testing.T) {
	home := t.TempDir()
	r := keel(t, home, "logserver", "-daemon", "-addr", "127.0.0.1:0")
	if r.code != 0 {
		t.Fatalf("daemon: %+v", r)
	}
	t.Cleanup(func() { keel(t, home, "logserver", "stop") })
	c := adminClient(t, filepath.Join(home, "logserver"), strings.TrimSpace(r.stdout))
	put(t, c, "keel/dev", "bob/app", "before 0")
	cmd := exec.Command(os.Args[0], "logs", "bob/app", "-logs.tail", "-format", "short")
	cmd.Env = append(os.Environ(), "KEEL_TEST_AS_KEEL=1", "KEEL_HOME="+home)
	var out testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for i := 0; i < 40; i++ {
		put(t, c, "keel/dev", "bob/app", fmt.Sprintf("line %02d", i))
		time.Sleep(25 * time.Millisecond)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "line 39") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1200 * time.Millisecond)
	got := out.String()
	last := -1
	for _, line := range strings.Split(got, "\n") {
		var n int
		if i := strings.Index(line, "line "); i >= 0 {
			fmt.Sscanf(line[i:], "line %d", &n)
			if n != last+1 {
				t.Fatalf("after line %d came line %d:\n%s", last, n, got)
			}
			last = n
		}
	}
	if last != 39 || strings.Count(got, "before 0") != 1 {
		t.Fatalf("tail output:\n%s", got)
	}
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("Ctrl-C: %v\n%s", err, out.String())
	}
}

func adminClient(t *testing.T, data, endpoint string) *cwl.Client {
	t.Helper()
	kr, _, err := auth.OpenKeyring(data)
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := kr.Admin()
	return cwl.New(cwl.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(admin.ID, admin.Secret, "")})
}

// put writes messages to group/stream, creating both as needed.
func put(t *testing.T, c *cwl.Client, group, stream string, msgs ...string) {
	t.Helper()
	ctx := context.Background()
	c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(group)})
	c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)})
	var evs []types.InputLogEvent
	for _, m := range msgs {
		evs = append(evs, types.InputLogEvent{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String(m)})
	}
	if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: evs}); err != nil {
		t.Fatal(err)
	}
}

// cleanEnv is the environment without the user's AWS settings, so that tests
// never reach AWS and behave the same on every machine.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, "AWS_EC2_METADATA_DISABLED=true")
}

func TestLogsUnreachableEndpoint(t *testing.T) {
	creds := []string{"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=eu-west-1"}
	r := keelEnv(t, t.TempDir(), creds, "logs", "alice/web", "-env", "prod", "-endpoint", "http://127.0.0.1:1")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot reach the CloudWatch Logs endpoint") {
		t.Fatalf("unreachable endpoint: %+v", r)
	}
}

func TestDiskFormats(t *testing.T) {
	for _, tc := range []struct {
		target, formats, err string
	}{
		{"virtualbox", "vdi, raw", ""},
		{"aws", "", ""},
		{"virtualbox", "vdi,qcow2", `-format "qcow2": use raw, vmdk or vdi`},
		{"qemu", "raw", "-format is for disk images"},
	} {
		_, err := diskWriter(tc.target, tc.formats)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("diskWriter(%s, %q) = %v, want %q", tc.target, tc.formats, err, tc.err)
		}
	}
}

// TestRunDetachMissingImage: -detach checks the image before it detaches,
// so the error reaches the terminal and no record of a run is left.
func TestRunDetachMissingImage(t *testing.T) {
	home := t.TempDir()
	r := keel(t, home, "run", "nope/app:1", "-detach")
	if r.code != 1 || !strings.Contains(r.stderr, "image nope/app:1 is not in") {
		t.Fatalf("keel run -detach of a missing image: exit %d, %q", r.code, r.stderr)
	}
	if ents, _ := os.ReadDir(filepath.Join(home, "instances")); len(ents) > 0 {
		t.Fatalf("a run that never started left %d files in instances/", len(ents))
	}
}
