package logserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keelvm/keel/internal/testutil"
)

// requireTool returns the path of a third-party client the tests drive. On
// CI a missing client is a failure: `make test` installs it.
func requireTool(t *testing.T, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		testutil.Unavailable(t, "%s not installed; run scripts/ensure-deps.sh", path)
	}
	return path
}

// awsEnv is the environment of an AWS client pointed at ts: the server's
// admin credentials file and nothing from the user's own AWS setup.
func awsEnv(t *testing.T, ts *testServer) []string {
	home := t.TempDir()
	return []string{
		"HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(ts.dir, "credentials"),
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"),
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL=" + ts.endpoint,
		"PYTHONUNBUFFERED=1",
	}
}

type awsCLI struct {
	t    *testing.T
	bin  string
	env  []string
	base []string
}

func (a awsCLI) run(args ...string) string {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.bin, append(append([]string{}, a.base...), args...)...)
	cmd.Env = a.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		a.t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func (a awsCLI) fails(args ...string) string {
	a.t.Helper()
	cmd := exec.Command(a.bin, append(append([]string{}, a.base...), args...)...)
	cmd.Env = a.env
	out, err := cmd.CombinedOutput()
	if err == nil {
		a.t.Fatalf("aws %s succeeded, want failure: %s", strings.Join(args, " "), out)
	}
	return string(out)
}

func TestAWSCLI(t *testing.T) {
	bin := requireTool(t, "/usr/bin/aws")
	ts := startServer(t)
	cli := awsCLI{t: t, bin: bin, env: awsEnv(t, ts), base: []string{"--endpoint-url", ts.endpoint, "--output", "json"}}
	cli.run("logs", "create-log-group", "--log-group-name", "cli/dev")
	cli.run("logs", "create-log-stream", "--log-group-name", "cli/dev", "--log-stream-name", "hello")
	now := time.Now().UnixMilli()
	var evs []string
	for i := 0; i < 5; i++ {
		evs = append(evs, fmt.Sprintf(`{"timestamp":%d,"message":"line %d"}`, now-5000+int64(i), i))
	}
	evFile := filepath.Join(t.TempDir(), "events.json")
	os.WriteFile(evFile, []byte("["+strings.Join(evs, ",")+"]"), 0o600)
	cli.run("logs", "put-log-events", "--log-group-name", "cli/dev", "--log-stream-name", "hello", "--log-events", "file://"+evFile)

	var get struct {
		Events []struct {
			Message string `json:"message"`
		} `json:"events"`
		NextForwardToken string `json:"nextForwardToken"`
	}
	json.Unmarshal([]byte(cli.run("logs", "get-log-events", "--log-group-name", "cli/dev", "--log-stream-name", "hello", "--start-from-head")), &get)
	if len(get.Events) != 5 || get.Events[4].Message != "line 4" || !strings.HasPrefix(get.NextForwardToken, "f/") {
		t.Fatalf("get-log-events: %+v", get)
	}
	var dg struct {
		LogGroups []struct{ LogGroupName string } `json:"logGroups"`
	}
	json.Unmarshal([]byte(cli.run("logs", "describe-log-groups")), &dg)
	if len(dg.LogGroups) != 1 || dg.LogGroups[0].LogGroupName != "cli/dev" {
		t.Fatalf("describe-log-groups: %+v", dg)
	}
	var ds struct {
		LogStreams []struct {
			LogStreamName      string
			LastEventTimestamp int64
		} `json:"logStreams"`
	}
	json.Unmarshal([]byte(cli.run("logs", "describe-log-streams", "--log-group-name", "cli/dev", "--order-by", "LastEventTime", "--descending")), &ds)
	if len(ds.LogStreams) != 1 || ds.LogStreams[0].LastEventTimestamp != now-5000+4 {
		t.Fatalf("describe-log-streams: %+v", ds)
	}
	var fl struct {
		Events []struct{ EventID, LogStreamName string } `json:"events"`
	}
	json.Unmarshal([]byte(cli.run("logs", "filter-log-events", "--log-group-name", "cli/dev", "--start-time", fmt.Sprint(now-10000))), &fl)
	if len(fl.Events) != 5 || fl.Events[0].LogStreamName != "hello" {
		t.Fatalf("filter-log-events: %+v", fl)
	}
	// One request's events across two services, by a JSON field.
	cli.run("logs", "create-log-stream", "--log-group-name", "cli/dev", "--log-stream-name", "api")
	for _, s := range []string{"hello", "api"} {
		req := fmt.Sprintf(`[{"timestamp":%d,"message":"{\"requestId\":\"r-9\",\"svc\":\"%s\"}"},{"timestamp":%d,"message":"{\"requestId\":\"r-1\"}"}]`, now, s, now+1)
		os.WriteFile(evFile, []byte(req), 0o600)
		cli.run("logs", "put-log-events", "--log-group-name", "cli/dev", "--log-stream-name", s, "--log-events", "file://"+evFile)
	}
	json.Unmarshal([]byte(cli.run("logs", "filter-log-events", "--log-group-name", "cli/dev", "--filter-pattern", `{ $.requestId = "r-9" }`)), &fl)
	if len(fl.Events) != 2 || fl.Events[0].LogStreamName == fl.Events[1].LogStreamName {
		t.Fatalf("filter-log-events --filter-pattern: %+v", fl)
	}
	if out := cli.fails("logs", "filter-log-events", "--log-group-name", "cli/dev", "--filter-pattern", `{ $.requestId = `); !strings.Contains(out, "InvalidParameterException") || !strings.Contains(out, "column") {
		t.Fatalf("bad pattern: %s", out)
	}
	cli.run("logs", "put-retention-policy", "--log-group-name", "cli/dev", "--retention-in-days", "7")
	cli.run("logs", "tag-log-group", "--log-group-name", "cli/dev", "--tags", "team=keel")
	if out := cli.run("logs", "list-tags-log-group", "--log-group-name", "cli/dev"); !strings.Contains(out, `"team": "keel"`) {
		t.Fatalf("list-tags-log-group: %s", out)
	}
	if out := cli.fails("logs", "create-log-group", "--log-group-name", "cli/dev"); !strings.Contains(out, "ResourceAlreadyExistsException") {
		t.Fatalf("duplicate: %s", out)
	}
	if out := cli.fails("logs", "put-retention-policy", "--log-group-name", "cli/dev", "--retention-in-days", "2"); !strings.Contains(out, "InvalidParameterException") {
		t.Fatalf("bad retention: %s", out)
	}

	// logs tail, one shot and following.
	out := cli.run("logs", "tail", "cli/dev", "--log-stream-names", "hello", "--since", "1h", "--format", "short")
	for i := 0; i < 5; i++ {
		if !strings.Contains(out, fmt.Sprintf("line %d", i)) {
			t.Fatalf("tail misses line %d:\n%s", i, out)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	follow := exec.CommandContext(ctx, bin, "--endpoint-url", ts.endpoint, "logs", "tail", "cli/dev", "--follow", "--since", "1h", "--format", "short")
	follow.Env = cli.env
	var fout testutil.SyncBuffer
	follow.Stdout, follow.Stderr = &fout, &fout
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); follow.Wait() }()
	time.Sleep(2 * time.Second)
	late := fmt.Sprintf(`[{"timestamp":%d,"message":"live one"},{"timestamp":%d,"message":"live two"}]`, time.Now().UnixMilli(), time.Now().UnixMilli())
	os.WriteFile(evFile, []byte(late), 0o600)
	cli.run("logs", "put-log-events", "--log-group-name", "cli/dev", "--log-stream-name", "hello", "--log-events", "file://"+evFile)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(fout.String(), "live two") && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	got := fout.String()
	if !strings.Contains(got, "live one") || !strings.Contains(got, "live two") {
		t.Fatalf("tail --follow did not show the new events:\n%s", got)
	}
	if strings.Count(got, "line 3") != 1 || strings.Count(got, "live one") != 1 {
		t.Fatalf("tail --follow repeated events:\n%s", got)
	}
}

func TestBoto3Paginators(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		testutil.Unavailable(t, "python3 with boto3 not available")
	}
	ts := startServer(t)
	cmd := exec.Command("python3", "testdata/boto3_paginators.py", ts.endpoint)
	cmd.Env = awsEnv(t, ts)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}
