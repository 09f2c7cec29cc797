package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/keelvm/keel/logserver"
	"github.com/keelvm/keel/logserver/auth"
)

// benchClient sends pre-encoded requests signed with the SDK's own SigV4
// signer, so that the figures measure the server, not client-side JSON.
type benchClient struct {
	endpoint string
	creds    aws.Credentials
	signer   *v4.Signer
	http     *http.Client
}

func (c *benchClient) call(op string, body []byte) ([]byte, error) {
	req, _ := http.NewRequest(http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "Logs_20140328."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(context.Background(), c.creds, req, hex.EncodeToString(sum[:]), "logs", "us-east-1", time.Now()); err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s: %d %s", op, resp.StatusCode, out)
	}
	return out, nil
}

func benchLogserver(scratch string, rangeMiB int) error {
	dir := filepath.Join(scratch, "logserver")
	st, stop, err := logserver.Start(logserver.RunConfig{
		Addr: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		// The server's own throughput, beyond the account's quotas
		// (put_small_batches_per_s exceeds PutLogEvents' 5,000/s).
		Quotas: logserver.Quotas{Off: true},
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
	if _, err := c.call("CreateLogGroup", []byte(`{"logGroupName":"bench"}`)); err != nil {
		return err
	}
	for _, s := range []string{"big", "small", "range"} {
		if _, err := c.call("CreateLogStream", []byte(`{"logGroupName":"bench","logStreamName":"`+s+`"}`)); err != nil {
			return err
		}
	}

	// 1. 1 MiB batches from 8 clients into one stream, against one fsync
	//    per MiB written straight to a file.
	const mib = 1 << 20
	rng := rand.New(rand.NewSource(1))
	batches := make([][]byte, 16)
	for i := range batches {
		batches[i] = putBody("big", time.Now().UnixMilli(), 1000, 1000, rng)
	}
	payload := int64(1000 * (1000 + 26))
	var sent atomic.Int64
	dur := 8 * time.Second
	if err := parallel(8, dur, func(w, i int) error {
		if _, err := c.call("PutLogEvents", batches[(w+i)%len(batches)]); err != nil {
			return err
		}
		sent.Add(payload)
		return nil
	}); err != nil {
		return err
	}
	putMBs := float64(sent.Load()) / mib / dur.Seconds()
	baseMBs, err := fsyncBaseline(filepath.Join(scratch, "baseline"), sent.Load())
	if err != nil {
		return err
	}
	report("logserver.put_mb_per_s", putMBs, "MiB/s")
	report("logserver.fsync_baseline_mb_per_s", baseMBs, "MiB/s")
	report("logserver.put_vs_fsync_ratio", putMBs/baseMBs, "ratio")

	// 2. 1-event batches from 32 clients into one stream.
	var reqs atomic.Int64
	small := make([][]byte, 64)
	for i := range small {
		small[i] = putBody("small", time.Now().UnixMilli(), 1, 100, rng)
	}
	dur = 6 * time.Second
	if err := parallel(32, dur, func(w, i int) error {
		if _, err := c.call("PutLogEvents", small[(w+i)%len(small)]); err != nil {
			return err
		}
		reqs.Add(1)
		return nil
	}); err != nil {
		return err
	}
	report("logserver.put_small_batches_per_s", float64(reqs.Load())/dur.Seconds(), "req/s")

	// 3. A 1-minute window out of a stream holding rangeMiB MiB spread over
	//    20 hours of timestamps.
	n := rangeMiB
	start := time.Now().Add(-21 * time.Hour).UnixMilli()
	step := int64(20*3600*1000) / int64(n)
	var next atomic.Int64
	// The same messages, one per line, for the grep baseline of the
	// filter figures.
	plainPath := filepath.Join(scratch, "messages.txt")
	plain, err := os.Create(plainPath)
	if err != nil {
		return err
	}
	defer os.Remove(plainPath)
	var plainMu sync.Mutex
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
	mid := start + int64(n)*step/2
	q := fmt.Appendf(nil, `{"logGroupName":"bench","logStreamName":"range","startTime":%d,"endTime":%d,"startFromHead":true}`, mid, mid+60_000)
	var times []float64
	events := 0
	for i := 0; i < 21; i++ {
		t0 := time.Now()
		out, err := c.call("GetLogEvents", q)
		if err != nil {
			return err
		}
		times = append(times, float64(time.Since(t0).Microseconds())/1000)
		var r struct{ Events []json.RawMessage }
		_ = json.Unmarshal(out, &r)
		events = len(r.Events)
	}
	sort.Float64s(times)
	fmt.Fprintf(os.Stderr, "bench: get_range read %d events per call from a %d MiB stream\n", events, n)
	report("logserver.get_range_ms", times[len(times)/2], "ms")

	if err := benchFilter(c, "range", plainPath, scratch); err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	if err := benchTail(c, scratch); err != nil {
		return fmt.Errorf("tail: %w", err)
	}
	return nil
}

var errStop = fmt.Errorf("stop")

// parallel runs fn from workers goroutines until d has passed (or, for d ==
// 0, until fn returns errStop).
func parallel(workers int, d time.Duration, fn func(worker, i int) error) error {
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; d == 0 || time.Now().Before(deadline); i++ {
				if err := fn(w, i); err != nil {
					if err != errStop {
						errs <- err
					}
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "

func putBody(stream string, ts int64, events, size int, rng *rand.Rand) []byte {
	return putBodySpan(stream, ts, events, size, 0, rng)
}

// putBodySpan encodes a PutLogEvents body whose events are stepMs apart.
func putBodySpan(stream string, ts int64, events, size int, stepMs int64, rng *rand.Rand) []byte {
	return putBodySpanTo(stream, ts, events, size, stepMs, rng, nil)
}

// putBodySpanTo is putBodySpan that also writes each message as a line to
// lines, when given.
func putBodySpanTo(stream string, ts int64, events, size int, stepMs int64, rng *rand.Rand, lines *bytes.Buffer) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"logGroupName":"bench","logStreamName":%q,"logEvents":[`, stream)
	msg := make([]byte, size)
	for i := 0; i < events; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		for j := range msg {
			msg[j] = letters[rng.Intn(len(letters))]
		}
		fmt.Fprintf(&b, `{"timestamp":%d,"message":"%s"}`, ts+int64(i)*stepMs, msg)
		if lines != nil {
			lines.Write(msg)
			lines.WriteByte('\n')
		}
	}
	b.WriteString("]}")
	return b.Bytes()
}

// fsyncBaseline writes total bytes to one file with one fsync per MiB.
func fsyncBaseline(path string, total int64) (float64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer os.Remove(path)
	defer f.Close()
	buf := make([]byte, 1<<20)
	crand.Read(buf)
	t0 := time.Now()
	for written := int64(0); written < total; written += int64(len(buf)) {
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
	}
	return float64(total) / (1 << 20) / time.Since(t0).Seconds(), nil
}
