package logserver_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/keelvm/keel/internal/testutil"
)

// TestInsightsAWSCLI runs Logs Insights queries with the AWS CLI v2.
func TestInsightsAWSCLI(t *testing.T) {
	bin := requireTool(t, "/usr/bin/aws")
	ts := startServer(t)
	start, end := seedInsights(t, ts.adminClient())
	cli := awsCLI{t: t, bin: bin, env: awsEnv(t, ts), base: []string{"--endpoint-url", ts.endpoint, "--output", "json"}}
	var sq struct {
		QueryID string `json:"queryId"`
	}
	json.Unmarshal([]byte(cli.run("logs", "start-query", "--log-group-names", "keel/prod", "keel/dev",
		"--start-time", fmt.Sprint(start), "--end-time", fmt.Sprint(end),
		"--query-string", `filter @message like /r7\b/ | stats count(*) as n by @log`)), &sq)
	if sq.QueryID == "" {
		t.Fatal("start-query gave no queryId")
	}
	var res struct {
		Status  string `json:"status"`
		Results [][]struct {
			Field string `json:"field"`
			Value string `json:"value"`
		} `json:"results"`
		Statistics struct {
			RecordsScanned float64 `json:"recordsScanned"`
		} `json:"statistics"`
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		json.Unmarshal([]byte(cli.run("logs", "get-query-results", "--query-id", sq.QueryID)), &res)
		if res.Status == "Complete" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := fmt.Sprint(res.Results)
	if res.Status != "Complete" || got != "[[{@log 000000000000:keel/dev} {n 4}] [{@log 000000000000:keel/prod} {n 8}]]" || res.Statistics.RecordsScanned != 300 {
		t.Fatalf("get-query-results: %s %s %+v", res.Status, got, res.Statistics)
	}
	out := cli.fails("logs", "start-query", "--log-group-name", "keel/prod", "--start-time", "0", "--end-time", "1", "--query-string", "stats count(*) by")
	if !strings.Contains(out, "MalformedQueryException") {
		t.Fatalf("malformed query: %s", out)
	}
	var dq struct {
		Queries []struct{ QueryID, Status string } `json:"queries"`
	}
	json.Unmarshal([]byte(cli.run("logs", "describe-queries", "--log-group-name", "keel/prod")), &dq)
	if len(dq.Queries) != 1 || dq.Queries[0].QueryID != sq.QueryID {
		t.Fatalf("describe-queries: %+v", dq)
	}
}

// TestInsightsBoto3 runs queries, GetLogRecord and StopQuery with boto3.
func TestInsightsBoto3(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		testutil.Unavailable(t, "python3 with boto3 not available")
	}
	ts := startServer(t)
	start, end := seedInsights(t, ts.adminClient())
	cmd := exec.Command("python3", "testdata/boto3_insights.py", ts.endpoint, fmt.Sprint(start), fmt.Sprint(end))
	cmd.Env = awsEnv(t, ts)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}
