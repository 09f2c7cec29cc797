package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/keelvm/keel/logserver"
	"github.com/keelvm/keel/logserver/auth"
)

// benchInsights measures Logs Insights queries on the local server:
//   - insights.vs_grep_ratio: `filter @message like /ERROR/ | stats
//     count(*) by bin(1m)` over a group of rangeMiB MiB (1 GiB) of events
//     in one stream, against `grep -c ERROR` over the same messages as
//     lines of a file (both from the page cache: best of 3 after a warm-up);
//   - insights.stats_10m_s: `stats avg(latency), pct(latency, 99) by
//     service, bin(1m)` over 10 million JSON events, and insights.rss_mb,
//     the process's peak RSS while that query runs (the server runs in this
//     process; the peak is reset just before the query).
func benchInsights(scratch string, rangeMiB int) error {
	dir := filepath.Join(scratch, "insights")
	st, stop, err := logserver.Start(logserver.RunConfig{
		Addr: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return err
	}
	defer stop()
	kr, _, err := auth.OpenKeyring(dir)
	if err != nil {
		return err
	}
	admin, _ := kr.Admin()
	c := &benchClient{
		endpoint: st.Endpoint, creds: aws.Credentials{AccessKeyID: admin.ID, SecretAccessKey: admin.Secret},
		signer: v4.NewSigner(), http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
	}
	for _, call := range []struct{ op, body string }{
		{"CreateLogGroup", `{"logGroupName":"bench"}`},
		{"CreateLogStream", `{"logGroupName":"bench","logStreamName":"range"}`},
		{"CreateLogGroup", `{"logGroupName":"json"}`},
	} {
		if _, err := c.call(call.op, []byte(call.body)); err != nil {
			return err
		}
	}

	// 1. rangeMiB MiB of random text over 20 hours, as logserver.go builds
	//    it, and the same messages as lines of a file for grep.
	n := rangeMiB
	start := time.Now().Add(-21 * time.Hour).UnixMilli()
	step := int64(20*3600*1000) / int64(n)
	plainPath := filepath.Join(scratch, "insights-messages.txt")
	plain, err := os.Create(plainPath)
	if err != nil {
		return err
	}
	defer os.Remove(plainPath)
	var plainMu sync.Mutex
	var next atomic.Int64
	if err := parallel(4, 0, func(w, i int) error {
		b := next.Add(1) - 1
		if b >= int64(n) {
			return errStop
		}
		var lines bytes.Buffer
		body := putBodySpanTo("range", start+b*step, 1000, 1000, step/1000, rand.New(rand.NewSource(b)), &lines)
		plainMu.Lock()
		_, werr := plain.Write(lines.Bytes())
		plainMu.Unlock()
		if werr != nil {
			return werr
		}
		_, err := c.call("PutLogEvents", body)
		return err
	}); err != nil {
		return err
	}
	if err := plain.Close(); err != nil {
		return err
	}
	fi, err := os.Stat(plainPath)
	if err != nil {
		return err
	}
	mib := float64(fi.Size()) / (1 << 20)
	from, to := start/1000-60, time.Now().Unix()
	query := func(group, q string) (time.Duration, string, error) {
		t0 := time.Now()
		res, err := runInsights(c, group, from, to, q)
		return time.Since(t0), res, err
	}
	grepQ := `filter @message like /ERROR/ | stats count(*) by bin(1m)`
	if _, _, err := query("bench", grepQ); err != nil { // warm the page cache
		return err
	}
	grep := func() (time.Duration, error) {
		t0 := time.Now()
		out, err := exec.Command("grep", "-c", "ERROR", plainPath).Output()
		if err != nil && len(out) == 0 {
			return 0, fmt.Errorf("grep: %w", err)
		}
		return time.Since(t0), nil
	}
	if _, err := grep(); err != nil {
		return err
	}
	var ours, theirs time.Duration
	for i := 0; i < 3; i++ {
		d, _, err := query("bench", grepQ)
		if err != nil {
			return err
		}
		g, err := grep()
		if err != nil {
			return err
		}
		if i == 0 || d < ours {
			ours = d
		}
		if i == 0 || g < theirs {
			theirs = g
		}
	}
	report("insights.scan_mb_per_s", mib/ours.Seconds(), "MiB/s")
	report("insights.grep_mb_per_s", mib/theirs.Seconds(), "MiB/s")
	report("insights.vs_grep_ratio", theirs.Seconds()/ours.Seconds(), "ratio")

	// 2. 10 million JSON events of 8 services over 4 streams and 2 hours.
	const events, perBatch = 10_000_000, 10_000
	jsonStart := time.Now().Add(-3 * time.Hour).UnixMilli()
	for s := 0; s < 4; s++ {
		if _, err := c.call("CreateLogStream", fmt.Appendf(nil, `{"logGroupName":"json","logStreamName":"s%d"}`, s)); err != nil {
			return err
		}
	}
	next.Store(0)
	if err := parallel(4, 0, func(w, i int) error {
		b := next.Add(1) - 1
		if b >= events/perBatch {
			return errStop
		}
		rng := rand.New(rand.NewSource(b))
		var buf bytes.Buffer
		fmt.Fprintf(&buf, `{"logGroupName":"json","logStreamName":"s%d","logEvents":[`, b%4)
		ts := jsonStart + b*int64(2*3600*1000)/(events/perBatch)
		for i := 0; i < perBatch; i++ {
			if i > 0 {
				buf.WriteByte(',')
			}
			msg := `{"service":"svc` + strconv.Itoa(rng.Intn(8)) + `","level":"INFO","latency":` + strconv.Itoa(rng.Intn(1000)) + `,"path":"/api/items"}`
			m, _ := json.Marshal(msg)
			fmt.Fprintf(&buf, `{"timestamp":%d,"message":%s}`, ts, m)
		}
		buf.WriteString("]}")
		_, err := c.call("PutLogEvents", buf.Bytes())
		return err
	}); err != nil {
		return err
	}
	runtime.GC()
	debug.FreeOSMemory()
	// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+).
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("reset peak RSS: %w", err)
	}
	if before, err := currentRSS(); err == nil {
		fmt.Fprintf(os.Stderr, "bench: insights RSS before the stats query: %.1f MiB\n", before)
	}
	d, res, err := query("json", `stats avg(latency), pct(latency, 99) by service, bin(1m)`)
	if err != nil {
		return err
	}
	hwm, err := peakRSS()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: insights stats over %d events: %s\n", events, res)
	report("insights.stats_10m_s", d.Seconds(), "s")
	report("insights.rss_mb", hwm, "MiB")
	return nil
}

// runInsights runs a query through the API, polling GetQueryResults every
// 10 ms, and returns a summary of its answer.
func runInsights(c *benchClient, group string, from, to int64, q string) (string, error) {
	body, _ := json.Marshal(map[string]any{"logGroupName": group, "startTime": from, "endTime": to, "queryString": q})
	out, err := c.call("StartQuery", body)
	if err != nil {
		return "", err
	}
	var sq struct{ QueryID string }
	if err := json.Unmarshal(out, &sq); err != nil {
		return "", err
	}
	idBody := []byte(`{"queryId":"` + sq.QueryID + `"}`)
	for {
		time.Sleep(10 * time.Millisecond)
		out, err := c.call("GetQueryResults", idBody)
		if err != nil {
			return "", err
		}
		var r struct {
			Status     string
			Results    []json.RawMessage
			Statistics struct{ RecordsScanned, RecordsMatched float64 }
		}
		if err := json.Unmarshal(out, &r); err != nil {
			return "", err
		}
		switch r.Status {
		case "Scheduled", "Running":
			continue
		case "Complete":
			return fmt.Sprintf("%d rows, %.0f records scanned, %.0f matched", len(r.Results), r.Statistics.RecordsScanned, r.Statistics.RecordsMatched), nil
		}
		return "", fmt.Errorf("query %q ended %s", q, r.Status)
	}
}

// peakRSS is the process's VmHWM in MiB.
func peakRSS() (float64, error) { return procStatus("VmHWM:") }

// currentRSS is the process's VmRSS in MiB.
func currentRSS() (float64, error) { return procStatus("VmRSS:") }

func procStatus(key string) (float64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == key {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/self/status", key)
}
