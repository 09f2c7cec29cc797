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
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/keelvm/keel/logs"
	"github.com/keelvm/keel/logserver"
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
	// Memory first, on a fresh server: measured after the throughput runs
	// it read about 70 MB for old and new keel alike, because the server,
	// still digesting their hundreds of MB, answered slowly and keel
	// buffered meanwhile; that is the server's figure, not keel's.
	if err := b.memory(); err != nil {
		return err
	}
	if err := b.throughput(); err != nil {
		return err
	}
	c, err := logs.AdminClient(dir, st.Endpoint)
	if err != nil {
		return err
	}
	return b.latency(c)
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
//
// Two figures, two set-ups. app_write_ratio runs keel ship as users do (the
// default buffer): the app must not notice keel, and keel may drop lines it
// cannot deliver in time, which is reported next to the ratio. events_per_s
// and mb_per_s count lines delivered, so that run gets a buffer that holds
// the whole burst and must drop nothing: the figure is the delivery rate,
// from keel's start to its exit after the last acknowledgement.
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
	baseline := func() (time.Duration, error) {
		if out, err := exec.Command("sh", "-c", "("+app+") | cat >/dev/null").CombinedOutput(); err != nil {
			return 0, fmt.Errorf("baseline app: %v: %s", err, out)
		}
		return appTime()
	}
	// The ratio: nine pairs, each baseline right before its keel run, and
	// the median, because one slow scheduling slice skews a 0.3 s run (with
	// five, the median of three full runs spread from 0.85 to 0.91).
	const pairs = 9
	var ratios []float64
	dropped := 0.0
	for i := 0; i < pairs; i++ {
		base, err := baseline()
		if err != nil {
			return err
		}
		stats, err := b.run(fmt.Sprintf("ratio-%d", i), app)
		if err != nil {
			return err
		}
		under, err := appTime()
		if err != nil {
			return err
		}
		ratios = append(ratios, base.Seconds()/under.Seconds())
		dropped += stats["dropped"]
		if delivered := stats["sent"] + stats["dropped"]; delivered != lines {
			return fmt.Errorf("ratio run: %v sent + %v dropped != %d lines: %v", stats["sent"], stats["dropped"], lines, stats)
		}
	}
	sort.Float64s(ratios)
	report("ship.app_write_ratio", ratios[pairs/2], "ratio")
	report("ship.app_write_dropped_pct", dropped/(pairs*lines)*100, "%")

	// The same with nothing listening at the endpoint: keel reads, buffers
	// and drops, and neither its batching nor the server (which shares
	// this machine's CPU with the app in the figure above, unlike
	// CloudWatch) competes with the app: keel's own cost to the app.
	down := &shipBench{keel: b.keel, scratch: b.scratch}
	for _, kv := range b.env {
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=") {
			kv = "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=http://127.0.0.1:1"
		}
		down.env = append(down.env, kv)
	}
	ratios = ratios[:0]
	for i := 0; i < pairs; i++ {
		base, err := baseline()
		if err != nil {
			return err
		}
		if _, err := down.run(fmt.Sprintf("down-%d", i), app, "-flush.timeout", "100ms"); err != nil {
			return err
		}
		under, err := appTime()
		if err != nil {
			return err
		}
		ratios = append(ratios, base.Seconds()/under.Seconds())
	}
	sort.Float64s(ratios)
	report("ship.app_write_ratio_server_down", ratios[pairs/2], "ratio")

	// A reference for app_write_ratio: the same baseline next to two
	// SCHED_IDLE busy loops, the lowest priority Linux has, that only spin
	// (no memory, no system calls): what work running beside the app costs
	// it on this machine, however low its priority.
	ratios = ratios[:0]
	for i := 0; i < pairs; i++ {
		base, err := baseline()
		if err != nil {
			return err
		}
		var burners []*exec.Cmd
		stop := func() {
			for _, c := range burners {
				c.Process.Kill()
				c.Wait()
			}
		}
		for range 2 {
			c := exec.Command("chrt", "-i", "0", "sh", "-c", "while :; do :; done")
			if err := c.Start(); err != nil {
				stop()
				return fmt.Errorf("start an idle-priority busy loop (chrt, util-linux): %w", err)
			}
			burners = append(burners, c)
		}
		time.Sleep(100 * time.Millisecond)
		loaded, err := baseline()
		stop()
		if err != nil {
			return err
		}
		ratios = append(ratios, base.Seconds()/loaded.Seconds())
	}
	sort.Float64s(ratios)
	report("ship.app_write_ratio_idle_spinners", ratios[pairs/2], "ratio")

	start := time.Now()
	stats, err := b.run("throughput", app, "-logs.buffer", "512")
	if err != nil {
		return err
	}
	total := time.Since(start)
	if stats["sent"] != lines || stats["dropped"] != 0 {
		return fmt.Errorf("throughput run: sent %v of %d lines, dropped %v: %v", stats["sent"], lines, stats["dropped"], stats)
	}
	report("ship.events_per_s", stats["sent"]/total.Seconds(), "events/s")
	report("ship.mb_per_s", stats["sent"]*float64(len(line100)+1)/total.Seconds()/1e6, "MB/s")
	report("ship.throughput_dropped", stats["dropped"], "events")
	report("ship.cpu_s_per_million_events", stats["cpu_s"]/(stats["sent"]/1e6), "s")
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
	report("ship.rss_run_dropped", stats["dropped"], "events")
	return nil
}
