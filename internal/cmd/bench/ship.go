package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/keelvm/keel/logserver"
	"github.com/keelvm/keel/logserver/auth"
)

// line100 is a 100-byte line with its newline.
const line100 = "0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 012345678"

// benchShip measures `keel ship` (bin/keel) against an in-process local log
// server with SigV4: how much it slows an app down, its throughput into one
// stream, its latency and request count at a light load, its memory at
// 50,000 lines/s, and its CPU per million events.
func benchShip(scratch string, _ int) error {
	dir := filepath.Join(scratch, "ship-logserver")
	st, stop, err := logserver.Start(logserver.RunConfig{Addr: "127.0.0.1:0", DataDir: dir,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer stop()
	keel, err := filepath.Abs(*keelBin)
	if err != nil {
		return err
	}
	env := []string{"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"), "AWS_CONFIG_FILE=/dev/null",
		"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=" + st.Endpoint, "AWS_EC2_METADATA_DISABLED=true"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	b := &shipBench{keel: keel, env: env, scratch: scratch}
	if err := b.throughput(); err != nil {
		return err
	}
	c, err := shipAdminClient(dir, st.Endpoint)
	if err != nil {
		return err
	}
	if err := b.latency(c); err != nil {
		return err
	}
	return b.memory()
}

type shipBench struct {
	keel    string
	env     []string
	scratch string
}

// run runs `keel ship ARGS -- sh -c script` and returns its -stats counters.
func (b *shipBench) run(stream, script string, args ...string) (map[string]float64, error) {
	argv := append([]string{"ship", "-group", "bench", "-stream", stream, "-console=false", "-stats"}, args...)
	argv = append(argv, "--", "sh", "-c", script)
	cmd := exec.Command(b.keel, argv...)
	cmd.Env = b.env
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("keel ship: %v: %s", err, errb.String())
	}
	stats := map[string]float64{}
	for _, line := range strings.Split(errb.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "keel ship: stats "); ok {
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				stats[k], _ = strconv.ParseFloat(v, 64)
			}
		}
	}
	if len(stats) == 0 {
		return nil, fmt.Errorf("keel ship printed no stats: %s", errb.String())
	}
	return stats, nil
}

// throughput: 1,000,000 lines of 100 bytes written flat out, under keel ship
// and into `cat >/dev/null`; the app times its own writing.
func (b *shipBench) throughput() error {
	const lines = 1_000_000
	timeFile := filepath.Join(b.scratch, "ship-app-ns")
	app := fmt.Sprintf(`t0=$(date +%%s%%N); yes %q | head -n %d; t1=$(date +%%s%%N); echo $((t1-t0)) > %s`, line100, lines, timeFile)
	appTime := func() (time.Duration, error) {
		s, err := os.ReadFile(timeFile)
		if err != nil {
			return 0, err
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(string(s)), 10, 64)
		return time.Duration(ns), err
	}
	if out, err := exec.Command("sh", "-c", "("+app+") | cat >/dev/null").CombinedOutput(); err != nil {
		return fmt.Errorf("baseline app: %v: %s", err, out)
	}
	base, err := appTime()
	if err != nil {
		return err
	}
	start := time.Now()
	stats, err := b.run("throughput", app)
	if err != nil {
		return err
	}
	total := time.Since(start)
	under, err := appTime()
	if err != nil {
		return err
	}
	if stats["sent"] != lines {
		return fmt.Errorf("sent %v of %d lines: %v", stats["sent"], lines, stats)
	}
	report("ship.app_write_ratio", base.Seconds()/under.Seconds(), "ratio")
	report("ship.events_per_s", lines/total.Seconds(), "events/s")
	report("ship.mb_per_s", lines*float64(len(line100)+1)/total.Seconds()/1e6, "MB/s")
	report("ship.cpu_s_per_million_events", stats["cpu_s"]/(lines/1e6), "s")
	return nil
}

// latency: 500 lines at about 100 lines/s, each carrying its write time;
// the server's ingestion time says when it became readable.
func (b *shipBench) latency(c *cwl.Client) error {
	app := `for i in $(seq 500); do date +%s%N; sleep 0.0095; done`
	stats, err := b.run("latency", app, "-format", "text")
	if err != nil {
		return err
	}
	var lat []float64
	var token *string
	for {
		out, err := c.GetLogEvents(context.Background(), &cwl.GetLogEventsInput{LogGroupName: aws.String("bench"),
			LogStreamName: aws.String("latency"), StartFromHead: aws.Bool(true), NextToken: token})
		if err != nil {
			return err
		}
		for _, e := range out.Events {
			ns, err := strconv.ParseInt(*e.Message, 10, 64)
			if err == nil {
				lat = append(lat, float64(*e.IngestionTime)-float64(ns)/1e6)
			}
		}
		if len(out.Events) == 0 || (token != nil && *out.NextForwardToken == *token) {
			break
		}
		token = out.NextForwardToken
	}
	if len(lat) != 500 {
		return fmt.Errorf("latency: %d of 500 lines read back", len(lat))
	}
	sort.Float64s(lat)
	report("ship.latency_p50_ms", lat[len(lat)/2], "ms")
	report("ship.latency_p99_ms", lat[len(lat)*99/100], "ms")
	report("ship.requests_per_1k_events", stats["requests"]/stats["accepted"]*1000, "requests")
	return nil
}

// memory: 50,000 lines/s for 4 seconds, in bursts of 5,000 every 100 ms.
func (b *shipBench) memory() error {
	app := fmt.Sprintf(`for i in $(seq 40); do yes %q | head -n 5000; sleep 0.1; done`, line100)
	stats, err := b.run("memory", app)
	if err != nil {
		return err
	}
	report("ship.rss_mb", stats["maxrss_kib"]/1024, "MB")
	return nil
}

func shipAdminClient(dir, endpoint string) (*cwl.Client, error) {
	kr, _, err := auth.OpenKeyring(dir)
	if err != nil {
		return nil, err
	}
	k, ok := kr.Admin()
	if !ok {
		return nil, fmt.Errorf("no admin key in %s", dir)
	}
	return cwl.New(cwl.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(k.ID, k.Secret, "")}), nil
}
