package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// benchFilter measures FilterLogEvents scanning a whole stream with a
// two-term pattern, against grep -F -c of one term over the same messages
// in a plain file, and a JSON pattern over a stream of JSON events.
func benchFilter(c *benchClient, stream, plainPath, scratch string) error {
	fi, err := os.Stat(plainPath)
	if err != nil {
		return err
	}
	msgBytes := float64(fi.Size()) / (1 << 20)
	scan := func(stream, pattern string) (time.Duration, int, error) {
		t0 := time.Now()
		matched := 0
		tok := ""
		for {
			in := map[string]any{"logGroupName": "bench", "logStreamNames": []string{stream}, "filterPattern": pattern}
			if tok != "" {
				in["nextToken"] = tok
			}
			body, _ := json.Marshal(in)
			out, err := c.call("FilterLogEvents", body)
			if err != nil {
				return 0, 0, err
			}
			var r struct {
				Events    []json.RawMessage
				NextToken string
			}
			if err := json.Unmarshal(out, &r); err != nil {
				return 0, 0, err
			}
			matched += len(r.Events)
			if tok = r.NextToken; tok == "" {
				break
			}
		}
		return time.Since(t0), matched, nil
	}
	// Warm both sides' page cache first.
	if _, _, err := scan(stream, "keel XQZ"); err != nil {
		return err
	}
	grep := func() (time.Duration, error) {
		t0 := time.Now()
		out, err := exec.Command("grep", "-F", "-c", "keel", plainPath).Output()
		if err != nil && len(out) == 0 {
			return 0, fmt.Errorf("grep: %w", err)
		}
		return time.Since(t0), nil
	}
	if _, err := grep(); err != nil {
		return err
	}
	best := func(f func() (time.Duration, error)) (time.Duration, error) {
		var b time.Duration
		for i := 0; i < 3; i++ {
			d, err := f()
			if err != nil {
				return 0, err
			}
			if i == 0 || d < b {
				b = d
			}
		}
		return b, nil
	}
	ours, err := best(func() (time.Duration, error) { d, _, err := scan(stream, "keel XQZ"); return d, err })
	if err != nil {
		return err
	}
	theirs, err := best(grep)
	if err != nil {
		return err
	}
	oursMBs := msgBytes / ours.Seconds()
	grepMBs := msgBytes / theirs.Seconds()
	report("filter.scan_mb_per_s", oursMBs, "MiB/s")
	report("filter.grep_mb_per_s", grepMBs, "MiB/s")
	report("filter.vs_grep_ratio", oursMBs/grepMBs, "ratio")

	// A JSON pattern over JSON events.
	if _, err := c.call("CreateLogStream", []byte(`{"logGroupName":"bench","logStreamName":"json"}`)); err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	var total int64
	for b := 0; b < 128; b++ {
		var buf bytes.Buffer
		buf.WriteString(`{"logGroupName":"bench","logStreamName":"json","logEvents":[`)
		for i := 0; i < 1000; i++ {
			if i > 0 {
				buf.WriteByte(',')
			}
			n := b*1000 + i
			msg := fmt.Sprintf(`{"instance":"i-%d","level":"INFO","requestId":"req-%d","latency":%d,"path":"/api/v1/items/%d","message":"%s"}`,
				n%7, n%5000, n%250, n, strings.Repeat("x", 800))
			total += int64(len(msg))
			m, _ := json.Marshal(msg)
			fmt.Fprintf(&buf, `{"timestamp":%d,"message":%s}`, now-int64(128000-n), m)
		}
		buf.WriteString("]}")
		if _, err := c.call("PutLogEvents", buf.Bytes()); err != nil {
			return err
		}
	}
	pattern := `{ $.requestId = "req-42" && $.latency > 10 }`
	if _, _, err := scan("json", pattern); err != nil {
		return err
	}
	d, matched, err := scan("json", pattern)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: JSON pattern matched %d of 128000 events\n", matched)
	report("filter.json_scan_mb_per_s", float64(total)/(1<<20)/d.Seconds(), "MiB/s")
	return nil
}
