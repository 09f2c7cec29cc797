// Package fleetsim simulates a fleet of keel instances shipping their logs
// to one account, against keel's real local log server with the service's
// quotas: N shippers in one process, each with its own stream, its own SDK
// client and the init's settings, started within one second (a scale-out),
// each logging at a realistic rate with bursts, then all closed at once as
// at shutdown. It reads every stream back and measures, at the server, what
// the fleet cost the account's quotas.
//
// Boundaries: it runs no VM and no init; it builds the shippers as
// init/ship.go does (keep the two in step). The bench (make bench, N =
// 1,000) and this package's test (N = 100) call Run.
package fleetsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/keelvm/keel/logserver"
	"github.com/keelvm/keel/logserver/auth"
	"github.com/keelvm/keel/shipper"
	"github.com/keelvm/keel/shipper/cwlhttp"
)

// Config shapes a simulation.
type Config struct {
	N int // instances
	// DataDir is the server's data directory. Empty: a new directory on
	// /dev/shm (memory), removed at the end. A thousand streams written
	// at once cost a thousand fsyncs a second, which measures this
	// machine's disk (shared, here, with other work) instead of the
	// fleet's behaviour against its quotas; CloudWatch's storage is not
	// this disk. The server still fsyncs: on tmpfs that is cheap.
	DataDir string
	// PutQuota is the account's PutLogEvents quota in the simulation;
	// default N/s, one request a second per instance: the fleet meets it
	// as 5,000 instances meet the service's 5,000/s (a 2-core machine
	// cannot serve thousands of requests a second to a thousand
	// shippers). Other quotas are the service's defaults (CreateLogStream
	// 50/s).
	PutQuota float64
	// Duration is how long each instance logs (default 20 s).
	Duration time.Duration
	// Rate is each instance's steady lines per second (default 5), and
	// every BurstEvery (default 10 s) on average it writes Burst lines at
	// once (default 100: a stack trace, a spike of requests).
	Rate       float64
	Burst      int
	BurstEvery time.Duration
	// FlushTimeout bounds the shutdown flush (default 10 s, the init's).
	FlushTimeout time.Duration
	// Logf, if set, receives progress.
	Logf func(format string, args ...any)
}

// Result is what a simulation measured.
type Result struct {
	Logged      int // lines the instances logged
	Read        int // distinct lines read back
	Lost        int // logged and not read back
	Duplicates  int // read back more than once
	Dropped     int // dropped by the shippers at their byte bound
	ShipperLost int // the shippers' own count of lines not delivered by the end of their flush
	Misplaced   int // read back from another instance's stream, or unparsable

	PutAccepted, PutThrottled int // PutLogEvents at the server: 200, ThrottlingException
	PutOther                  int // PutLogEvents answered otherwise (the first finds the stream missing)
	PutOtherCodes             map[string]int
	PutPeakPerS               float64 // the most PutLogEvents accepted in one second
	PutQuota                  float64
	PutPerSecond              [][2]int // accepted and throttled PutLogEvents in each second from the start
	CreateOK, CreateThrottled int      // CreateLogStream at the server: created, throttled
	CreateExists              int      // CreateLogStream answered ResourceAlreadyExistsException

	StreamsReady   int             // instances whose stream was created
	StreamReadyP50 time.Duration   // from the instance's start
	StreamReadyP99 time.Duration   //
	StreamReadyMax time.Duration   //
	Latency        []time.Duration // line to readable, lines logged once their stream was ready, sorted
	LatencyAll     []time.Duration // every line, the wait for the stream included, sorted
	FlushAll       time.Duration   // from the shutdown until every instance has flushed
	CloseErrors    int             // instances whose flush did not finish in FlushTimeout
	Requests       int             // PutLogEvents requests the shippers made (shipper stats)
	Notices        int             // notices the shippers gave
}

// Percentile returns the p-th percentile (0-100) of sorted durations.
func Percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(float64(len(d))*p/100))]
}

// PeakRatio is the peak accepted PutLogEvents rate over the quota.
func (r *Result) PeakRatio() float64 { return r.PutPeakPerS / r.PutQuota }

// ThrottledRatio is the share of PutLogEvents requests throttled.
func (r *Result) ThrottledRatio() float64 {
	n := r.PutAccepted + r.PutThrottled + r.PutOther
	if n == 0 {
		return 0
	}
	return float64(r.PutThrottled) / float64(n)
}

const group = "fleet"

func (c *Config) defaults() {
	if c.PutQuota == 0 {
		c.PutQuota = float64(c.N)
	}
	if c.Duration == 0 {
		c.Duration = 20 * time.Second
	}
	if c.Rate == 0 {
		c.Rate = 5
	}
	if c.Burst == 0 {
		c.Burst = 100
	}
	if c.BurstEvery == 0 {
		c.BurstEvery = 10 * time.Second
	}
	if c.FlushTimeout == 0 {
		c.FlushTimeout = 10 * time.Second
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// Run runs one simulation.
func Run(cfg Config) (*Result, error) {
	cfg.defaults()
	if cfg.N < 1 {
		return nil, errors.New("fleetsim: N >= 1 is required")
	}
	if cfg.DataDir == "" {
		dir, err := os.MkdirTemp("/dev/shm", "keel-fleetsim-")
		if err != nil {
			dir, err = os.MkdirTemp("", "keel-fleetsim-")
		}
		if err != nil {
			return nil, fmt.Errorf("fleetsim: a data directory: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.DataDir = dir
	}
	count := &requestCounter{}
	st, stop, err := logserver.Start(logserver.RunConfig{
		Addr: "127.0.0.1:0", DataDir: cfg.DataDir, Logger: slog.New(count),
		// The service's quotas, PutLogEvents scaled; reading back is
		// the harness's, not the fleet's, so its quota is lifted.
		Quotas: logserver.Quotas{Rates: map[string]float64{"PutLogEvents": cfg.PutQuota, "GetLogEvents": 0}},
	})
	if err != nil {
		return nil, fmt.Errorf("start the log server: %w", err)
	}
	defer stop()
	kr, _, err := auth.OpenKeyring(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	admin, _ := kr.Admin()
	creds := credentials.NewStaticCredentialsProvider(admin.ID, admin.Secret, "")
	adminClient := cwl.New(cwl.Options{Region: "us-east-1", BaseEndpoint: aws.String(st.Endpoint), Credentials: creds})
	ctx := context.Background()
	// The deployer made the group (keel run, or infrastructure code).
	if _, err := adminClient.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		return nil, fmt.Errorf("create log group %s: %w", group, err)
	}

	res := &Result{PutQuota: cfg.PutQuota}
	insts := make([]*instance, cfg.N)
	start := time.Now()
	count.begin(start)
	var wg sync.WaitGroup
	var notices atomic.Int64
	for i := range insts {
		in := &instance{id: i, stream: fmt.Sprintf("i-%017x", 0x0a11ce0000+i)}
		insts[i] = in
		// A scale-out: every instance starts within one second.
		at := start.Add(time.Duration(i) * time.Second / time.Duration(cfg.N))
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Until(at))
			if err := in.start(st.Endpoint, creds, &notices); err != nil {
				in.err = err
				return
			}
			in.log(&cfg)
		}()
	}
	wg.Wait()
	for _, in := range insts {
		if in.err != nil {
			return nil, fmt.Errorf("instance %d: %w", in.id, in.err)
		}
	}
	cfg.Logf("fleetsim: %d instances logged for %v; shutting down", cfg.N, cfg.Duration)

	// Shutdown: every instance flushes at once, within the init's timeout.
	t0 := time.Now()
	for _, in := range insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fctx, cancel := context.WithTimeout(ctx, cfg.FlushTimeout)
			defer cancel()
			in.closeErr = in.s.Close(fctx)
		}()
	}
	wg.Wait()
	res.FlushAll = time.Since(t0)
	res.Notices = int(notices.Load())
	count.end()
	cfg.Logf("fleetsim: flushed in %v; reading back", res.FlushAll.Round(time.Millisecond))

	var ready []time.Duration
	for _, in := range insts {
		stats := in.s.Stats()
		res.Logged += in.logged
		res.Dropped += stats.Dropped
		res.ShipperLost += stats.Lost
		res.Requests += stats.Requests
		if in.closeErr != nil {
			res.CloseErrors++
		}
		if !in.readyAt.IsZero() {
			ready = append(ready, in.readyAt.Sub(in.startAt))
		}
	}
	slices.Sort(ready)
	res.StreamsReady = len(ready)
	res.StreamReadyP50, res.StreamReadyP99 = Percentile(ready, 50), Percentile(ready, 99)
	if len(ready) > 0 {
		res.StreamReadyMax = ready[len(ready)-1]
	}
	count.result(res)
	if err := readBack(adminClient, insts, res); err != nil {
		return nil, err
	}

	return res, nil
}

// instance is one simulated instance: its shipper and what it logged.
type instance struct {
	id       int
	stream   string
	s        *shipper.Shipper
	startAt  time.Time
	mu       sync.Mutex
	readyAt  time.Time
	logged   int
	err      error
	closeErr error
}

// start builds the instance's client and shipper as the init does
// (init/ship.go: its own transport, cwlhttp, a 5 s request timeout, json
// events, the default buffer and linger).
func (in *instance) start(endpoint string, creds aws.CredentialsProvider, notices *atomic.Int64) error {
	in.startAt = time.Now()
	c, err := cwlhttp.New(cwlhttp.Options{Region: "us-east-1", Credentials: creds, Endpoint: endpoint})
	if err != nil {
		return err
	}
	s, err := shipper.New(shipper.Config{Client: watched{c, in}, Group: group, Stream: in.stream,
		Instance: in.stream, Image: "fleet", RequestTimeout: 5 * time.Second,
		Notice: func(string) { notices.Add(1) }})
	if err != nil {
		return err
	}
	in.s = s
	return nil
}

// watched records when the instance's stream was created (or found).
type watched struct {
	*cwlhttp.Client
	in *instance
}

func (w watched) CreateLogStream(ctx context.Context, group, stream string) error {
	err := w.Client.CreateLogStream(ctx, group, stream)
	var ae *cwlhttp.APIError
	if err == nil || errors.As(err, &ae) && ae.Code == "ResourceAlreadyExistsException" {
		w.in.ready()
	}
	return err
}

// PutLogEvents: written to (a creation whose answer timed out on a
// loaded machine still made it).
func (w watched) PutLogEvents(ctx context.Context, group, stream string, body []byte) (*cwlhttp.PutResult, error) {
	out, err := w.Client.PutLogEvents(ctx, group, stream, body)
	if err == nil {
		w.in.ready()
	}
	return out, err
}

func (in *instance) ready() {
	in.mu.Lock()
	if in.readyAt.IsZero() {
		in.readyAt = time.Now()
	}
	in.mu.Unlock()
}

// log writes lines for cfg.Duration: Rate a second at random intervals,
// and bursts of Burst lines every BurstEvery on average. Each line names
// its instance, its number and its write time.
func (in *instance) log(cfg *Config) {
	end := in.startAt.Add(cfg.Duration)
	nextBurst := in.startAt.Add(time.Duration(rand.Float64() * float64(cfg.BurstEvery)))
	for now := time.Now(); now.Before(end); now = time.Now() {
		n := 1
		if !now.Before(nextBurst) {
			n = cfg.Burst
			nextBurst = now.Add(time.Duration(rand.ExpFloat64() * float64(cfg.BurstEvery)))
		}
		for range n {
			in.s.Log(shipper.Event{Message: fmt.Sprintf("i=%d n=%d t=%d GET /api/orders/%d 200 %dms user=%d",
				in.id, in.logged, time.Now().UnixNano(), rand.IntN(1e6), rand.IntN(300), rand.IntN(1e5))})
			in.logged++
		}
		time.Sleep(min(time.Duration(rand.ExpFloat64()*float64(time.Second)/cfg.Rate), time.Until(end)))
	}
}
