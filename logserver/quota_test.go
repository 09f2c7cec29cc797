package logserver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/keelvm/keel/internal/testutil"
	"github.com/keelvm/keel/logserver"
)

func withAnswers(a *testutil.Answers) serverOpt {
	return func(rc *logserver.RunConfig) { rc.Logger = slog.New(a) }
}

// noRetry turns the SDK's retries off for one call.
func noRetry(o *cwl.Options) { o.RetryMaxAttempts = 1 }

// TestThrottlingPerOperation: each limited operation, at a quota of one
// request a second (a bucket of one), answers its second request at once
// with the service's ThrottlingException, which the SDK decodes as
// *types.ThrottlingException; the other operations are not affected; and
// the SDK's standard retryer gets through once the bucket refills.
func TestThrottlingPerOperation(t *testing.T) {
	limited := []struct {
		op   string
		call func(c *cwl.Client, opt func(*cwl.Options)) error
	}{
		{"PutLogEvents", func(c *cwl.Client, opt func(*cwl.Options)) error {
			_, err := c.PutLogEvents(context.Background(), &cwl.PutLogEventsInput{LogGroupName: aws.String("q"), LogStreamName: aws.String("s"),
				LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(nowMs()), Message: aws.String("hello")}}}, opt)
			return err
		}},
		{"CreateLogStream", func(c *cwl.Client, opt func(*cwl.Options)) error {
			_, err := c.CreateLogStream(context.Background(), &cwl.CreateLogStreamInput{LogGroupName: aws.String("q"),
				LogStreamName: aws.String(time.Now().Format("s-150405.000000000"))}, opt)
			return err
		}},
		{"DescribeLogStreams", func(c *cwl.Client, opt func(*cwl.Options)) error {
			_, err := c.DescribeLogStreams(context.Background(), &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("q")}, opt)
			return err
		}},
		{"GetLogEvents", func(c *cwl.Client, opt func(*cwl.Options)) error {
			_, err := c.GetLogEvents(context.Background(), &cwl.GetLogEventsInput{LogGroupName: aws.String("q"), LogStreamName: aws.String("s")}, opt)
			return err
		}},
		{"FilterLogEvents", func(c *cwl.Client, opt func(*cwl.Options)) error {
			_, err := c.FilterLogEvents(context.Background(), &cwl.FilterLogEventsInput{LogGroupName: aws.String("q")}, opt)
			return err
		}},
	}
	rates := map[string]float64{}
	for _, l := range limited {
		rates[l.op] = 1
	}
	var ans testutil.Answers
	ts := startServer(t, withQuotas(rates), withAnswers(&ans))
	c := ts.adminClient()
	ctx := ctxT(t)
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("q")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("q"), LogStreamName: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // CreateLogStream's bucket refills
	for _, l := range limited {
		t.Run(l.op, func(t *testing.T) {
			// Drain the bucket: a request succeeds at most once (a
			// slow machine may have refilled it in between).
			var err error
			for i := 0; i < 10; i++ {
				if err = l.call(c, noRetry); err != nil {
					break
				}
			}
			var te *types.ThrottlingException
			if !errors.As(err, &te) || apiMessage(err) != "Rate exceeded" {
				t.Fatalf("over the quota: %v (%s), want ThrottlingException: Rate exceeded", err, apiCode(err))
			}
			// Other operations have buckets of their own.
			if _, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{}, noRetry); err != nil {
				t.Fatalf("DescribeLogGroups while %s is throttled: %v", l.op, err)
			}
			// The SDK's standard retryer retries ThrottlingException
			// (after up to a second of backoff) and gets through.
			before := ans.Count(l.op, "ThrottlingException")
			for i := 0; i < 10 && l.call(c, noRetry) == nil; i++ {
			}
			if err := l.call(c, func(o *cwl.Options) { o.RetryMaxAttempts = 10 }); err != nil {
				t.Fatalf("with the SDK's retries: %v", err)
			}
			if ans.Count(l.op, "ThrottlingException") < before+2 {
				t.Errorf("the retried call was not throttled first: %d throttled answers, %d before", ans.Count(l.op, "ThrottlingException"), before)
			}
		})
	}
}

// TestThrottlingWire: the answer over the quota, byte for byte as the
// service sends it; quotas off and a lifted quota throttle nothing.
func TestThrottlingWire(t *testing.T) {
	post := func(ts *testServer, op, body string) (int, http.Header, string) {
		req, _ := http.NewRequest(http.MethodPost, ts.endpoint+"/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "Logs_20140328."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	ts := startServer(t, withAuthNone, withQuotas(map[string]float64{"DescribeLogGroups": 0.01}))
	if code, _, body := post(ts, "DescribeLogGroups", "{}"); code != 200 {
		t.Fatalf("first request: %d %s", code, body)
	}
	code, h, body := post(ts, "DescribeLogGroups", "{}")
	var got map[string]string
	if err := json.Unmarshal([]byte(body), &got); err != nil || code != 400 || len(got) != 2 ||
		got["__type"] != "ThrottlingException" || got["message"] != "Rate exceeded" || h.Get("X-Amzn-ErrorType") != "ThrottlingException" ||
		h.Get("x-amzn-RequestId") == "" || h.Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Fatalf("over the quota: %d %v %s", code, h, body)
	}
	// StartLiveTail, a streaming operation, is refused the same way
	// before its stream starts.
	tail := startServer(t, withAuthNone, withQuotas(map[string]float64{"StartLiveTail": 0.01}))
	post(tail, "CreateLogGroup", `{"logGroupName":"g"}`)
	req, _ := http.NewRequest(http.MethodPost, tail.endpoint+"/", strings.NewReader(`{"logGroupIdentifiers":["g"]}`))
	req.Header.Set("X-Amz-Target", "Logs_20140328.StartLiveTail")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	first, err := http.DefaultClient.Do(req)
	if err != nil || first.StatusCode != 200 {
		t.Fatalf("first live tail: %v %v", err, first)
	}
	first.Body.Close()
	if code, _, body := post(tail, "StartLiveTail", `{"logGroupIdentifiers":["g"]}`); code != 400 || !strings.Contains(body, `"__type":"ThrottlingException"`) {
		t.Fatalf("second live tail within the second: %d %s", code, body)
	}
	// An unknown operation is not throttled: it is unknown.
	if code, _, body := post(ts, "NoSuchOperation", "{}"); code != 400 || !strings.Contains(body, "UnknownOperationException") {
		t.Fatalf("unknown operation: %d %s", code, body)
	}

	for name, opt := range map[string]serverOpt{
		"off":    func(rc *logserver.RunConfig) { rc.Quotas = logserver.Quotas{Off: true} },
		"lifted": withQuotas(map[string]float64{"CreateLogStream": 0}),
	} {
		ts := startServer(t, withAuthNone, opt)
		post(ts, "CreateLogGroup", `{"logGroupName":"g"}`)
		for i := 0; i < 120; i++ { // beyond the default 50/s, within a second
			if code, _, body := post(ts, "CreateLogStream", `{"logGroupName":"g","logStreamName":"s`+string(rune('A'+i%26))+string(rune('A'+i/26))+`"}`); code != 200 {
				t.Fatalf("quotas %s: request %d: %d %s", name, i, code, body)
			}
		}
	}
}

// TestDefaultQuotas: the published numbers, FilterLogEvents and
// GetLogEvents by Region; a quota flag's errors name the way out.
func TestDefaultQuotas(t *testing.T) {
	east, west := logserver.DefaultQuotas("us-east-1"), logserver.DefaultQuotas("eu-west-1")
	for op, want := range map[string]float64{"PutLogEvents": 5000, "CreateLogStream": 50, "DescribeLogStreams": 25,
		"FilterLogEvents": 25, "GetLogEvents": 25, "StartQuery": 10, "StartLiveTail": 5} {
		if east[op] != want {
			t.Errorf("%s: %v/s, want %v/s", op, east[op], want)
		}
	}
	if west["FilterLogEvents"] != 10 || west["GetLogEvents"] != 10 || west["PutLogEvents"] != 5000 {
		t.Errorf("eu-west-1: %v", west)
	}
	for _, tc := range []struct{ in, err string }{
		{"PutLogEvents=500", ""},
		{"PutLogEvents = 0.5", ""},
		{"PutLogEvent=500", `"PutLogEvent" is not a CloudWatch Logs operation`},
		{"PutLogEvents", "write OPERATION=REQUESTS_PER_SECOND"},
		{"PutLogEvents=fast", "is not a number"},
		{"PutLogEvents=0", ""},
		{"PutLogEvents=1000000", ""},
		{"PutLogEvents=1e10", "give a rate from 0 to 1000000 requests per second"},
		{"PutLogEvents=1000000.5", "give a rate from 0 to 1000000"},
		{"PutLogEvents=-1", "give a rate from 0 to 1000000"},
		{"PutLogEvents=-0.001", "(0 lifts the quota)"},
	} {
		_, _, err := logserver.ParseQuota(tc.in)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParseQuota(%q) = %v, want %q", tc.in, err, tc.err)
		}
	}
}

// TestThrottlingAWSCLI: the AWS CLI reads the answer as the service's
// throttling: with retries off it reports ThrottlingException "Rate
// exceeded"; with its retries it waits and gets through.
func TestThrottlingAWSCLI(t *testing.T) {
	bin := requireTool(t, "/usr/bin/aws")
	ts := startServer(t, withQuotas(map[string]float64{"DescribeLogStreams": 0.5}))
	c := ts.adminClient()
	if _, err := c.CreateLogGroup(ctxT(t), &cwl.CreateLogGroupInput{LogGroupName: aws.String("cli")}); err != nil {
		t.Fatal(err)
	}
	env := awsEnv(t, ts)
	// cli runs the CLI with --debug while the test keeps the bucket empty,
	// until the CLI says it sends its request: however slow its start on a
	// loaded machine, its first attempt finds no token.
	cli := func(attempts int) (string, error) {
		cmd := exec.Command(bin, "--endpoint-url", ts.endpoint, "--output", "json", "--debug",
			"logs", "describe-log-streams", "--log-group-name", "cli")
		cmd.Env = append(env, "AWS_RETRY_MODE=standard", "AWS_MAX_ATTEMPTS="+strconv.Itoa(attempts))
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd.Stdout = &out
		sending := make(chan struct{})
		var log bytes.Buffer
		scanned := make(chan struct{})
		go func() {
			defer close(scanned)
			sc := bufio.NewScanner(stderr)
			sc.Buffer(nil, 1<<20)
			once := sync.Once{}
			for sc.Scan() {
				log.WriteString(sc.Text() + "\n")
				if strings.Contains(sc.Text(), "Sending http request") {
					once.Do(func() { close(sending) })
				}
			}
		}()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	drain:
		for {
			select {
			case <-sending:
				break drain
			case <-scanned:
				break drain
			case <-time.After(20 * time.Millisecond):
				c.DescribeLogStreams(ctxT(t), &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("cli")}, noRetry)
			}
		}
		<-scanned
		err = cmd.Wait()
		return out.String() + log.String(), err
	}

	out, err := cli(1)
	if err == nil || !strings.Contains(out, "(ThrottlingException)") || !strings.Contains(out, "Rate exceeded") {
		t.Fatalf("aws with retries off, over the quota: %v\n%s", err, lastLines(out, 5))
	}
	out, err = cli(10)
	if err != nil {
		t.Fatalf("aws with retries: %v\n%s", err, lastLines(out, 5))
	}
	// Its debug log shows the service's answer, then the retry.
	thr := strings.Index(out, `"__type":"ThrottlingException"`)
	if thr < 0 || !strings.Contains(out[thr:], "Retry needed") || !strings.Contains(out, `"logStreams"`) {
		t.Fatalf("the CLI did not see ThrottlingException and retry:\n%s", lastLines(out, 40))
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}
