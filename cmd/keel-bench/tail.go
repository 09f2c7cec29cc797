package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

var keelBin = flag.String("keel", "bin/keel", "the keel `binary` whose `keel logs -logs.tail` is measured")

// benchTail measures the delay from PutLogEvents returning to the event
// appearing on a follower's output: `keel logs -logs.tail`, and beside it
// `aws logs tail --follow` (AWS CLI v2), against the same local server.
func benchTail(c *benchClient, scratch string) error {
	if _, err := c.call("CreateLogStream", []byte(`{"logGroupName":"bench","logStreamName":"tail"}`)); err != nil {
		return err
	}
	keel, err := filepath.Abs(*keelBin)
	if err != nil {
		return err
	}
	cmd := exec.Command(keel, "logs", "-env", "dev", "-group", "bench", "-stream", "tail", "-logs.tail", "-since", "1m", "-format", "short")
	cmd.Env = append(os.Environ(), "KEEL_HOME="+scratch)
	p50, p99, err := followLatency(c, cmd, 100, 100*time.Millisecond)
	if err != nil {
		return fmt.Errorf("keel logs: %w", err)
	}
	report("tail.latency_p50_ms", p50, "ms")
	report("tail.latency_p99_ms", p99, "ms")

	if _, err := os.Stat("/usr/bin/aws"); err != nil {
		fmt.Fprintln(os.Stderr, "bench: /usr/bin/aws missing: no aws logs tail figure (run scripts/ensure-deps.sh)")
		return nil
	}
	st, err := readEndpoint(scratch)
	if err != nil {
		return err
	}
	cmd = exec.Command("/usr/bin/aws", "--endpoint-url", st, "logs", "tail", "bench", "--log-stream-names", "tail", "--follow", "--since", "1m", "--format", "short")
	cmd.Env = append(os.Environ(), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(scratch, "logserver", "credentials"),
		"AWS_CONFIG_FILE=/dev/null", "AWS_REGION=us-east-1", "AWS_PAGER=", "PYTHONUNBUFFERED=1", "AWS_EC2_METADATA_DISABLED=true")
	p50, p99, err = followLatency(c, cmd, 24, 500*time.Millisecond)
	if err != nil {
		return fmt.Errorf("aws logs tail: %w", err)
	}
	report("tail.aws_cli_latency_p50_ms", p50, "ms")
	report("tail.aws_cli_latency_p99_ms", p99, "ms")
	return nil
}

func readEndpoint(scratch string) (string, error) {
	b, err := os.ReadFile(filepath.Join(scratch, "logserver", "logserver.json"))
	if err != nil {
		return "", err
	}
	var st struct{ Endpoint string }
	return st.Endpoint, json.Unmarshal(b, &st)
}

// followLatency starts a follower, writes n uniquely numbered events every
// interval, and returns the p50 and p99 of put-acknowledged-to-shown.
func followLatency(c *benchClient, cmd *exec.Cmd, n int, interval time.Duration) (p50, p99 float64, err error) {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	run := fmt.Sprintf("r%d", time.Now().UnixNano())
	var mu sync.Mutex
	acked := map[int]time.Time{}
	shown := map[int]time.Time{}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			i := strings.Index(line, run+"-")
			if i < 0 {
				continue
			}
			var k int
			if _, err := fmt.Sscanf(line[i+len(run)+1:], "%d", &k); err == nil {
				mu.Lock()
				if _, dup := shown[k]; !dup {
					shown[k] = time.Now()
				}
				mu.Unlock()
			}
		}
	}()
	time.Sleep(2 * time.Second) // let the follower connect
	for k := 0; k < n; k++ {
		body := fmt.Appendf(nil, `{"logGroupName":"bench","logStreamName":"tail","logEvents":[{"timestamp":%d,"message":"%s-%d"}]}`, time.Now().UnixMilli(), run, k)
		if _, err := c.call("PutLogEvents", body); err != nil {
			return 0, 0, err
		}
		mu.Lock()
		acked[k] = time.Now()
		mu.Unlock()
		time.Sleep(interval)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		mu.Lock()
		done := len(shown) == n
		mu.Unlock()
		if done {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(shown) != n {
		return 0, 0, fmt.Errorf("%d of %d events shown", len(shown), n)
	}
	var lat []float64
	for k, t := range shown {
		lat = append(lat, float64(t.Sub(acked[k]).Microseconds())/1000)
	}
	sort.Float64s(lat)
	return lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)], nil
}
