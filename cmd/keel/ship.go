package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"golang.org/x/sys/unix"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/internal/piperead"
	"github.com/keelvm/keel/shipper"
	"github.com/keelvm/keel/shipper/cwlsdk"
	"github.com/keelvm/keel/shipper/redact"
)

func init() {
	register(command{name: "ship", summary: "run a command and ship its stdout and stderr to CloudWatch Logs", run: runShip})
}

const shipAbout = `
Runs CMD with its stdout and stderr on pipes and ships every line to log group
-group, stream -stream: stdout lines at level INFO, stderr lines at ERROR.
Lines also go to keel's own stdout and stderr (-console=false turns that off).
CMD never waits for its logs: lines are batched in memory (bounded by
-logs.buffer; when full the oldest unsent lines are dropped and the stream
gets a marker saying how many) and delivered in the background, retrying
throttling, errors and outages. Signals are passed on to CMD. When CMD exits,
keel delivers what is buffered (for at most -flush.timeout; a stop signal
meanwhile is answered, a second one stops the delivery) and exits with CMD's
exit status (128+N when a signal N ended it). A stack trace (Java, Python, Go,
Node.js, Ruby) is one event, not one per line (-logs.multiline).

AWS configuration comes from the standard chain: environment, shared files
(AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE), the EC2 instance role. -endpoint
or AWS_ENDPOINT_URL_CLOUDWATCH_LOGS point it elsewhere, e.g. at keel's local
log server with AWS_SHARED_CREDENTIALS_FILE=~/.keel/logserver/credentials.

Secrets are redacted before lines leave the process (built-ins: ` + "%s" + `).`

type shipFlags struct {
	group, stream, format, instance, image, region, endpoint string
	redactOff, multiline                                     string
	redact                                                   stringList
	retention, bufferMiB, inflight, maxEvent, nice           int
	linger, flushTimeout                                     time.Duration
	console, stats                                           bool
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ", ") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func runShip(args []string) error {
	fs := newFlags("ship", "ship -group G -stream S [flags] -- CMD [ARGS...]", fmt.Sprintf(shipAbout, strings.Join(redact.Names(), ", ")))
	var f shipFlags
	fs.StringVar(&f.group, "group", "", "log `group` (required)")
	fs.StringVar(&f.stream, "stream", "", "log `stream` (required)")
	fs.StringVar(&f.format, "format", "json", "event `format`: json ({\"instance\",\"image\",\"level\",\"message\",\"source\"}; JSON lines keep their keys) or text (the line as it is)")
	fs.StringVar(&f.instance, "instance", "", "\"instance\" of json events (default: the host name)")
	fs.StringVar(&f.image, "image", "", "\"image\" of json events (default: the base name of CMD)")
	fs.StringVar(&f.region, "region", "", "AWS `region` (default: from the AWS configuration)")
	fs.StringVar(&f.endpoint, "endpoint", "", "CloudWatch Logs endpoint `URL` (default: AWS, or AWS_ENDPOINT_URL_CLOUDWATCH_LOGS)")
	fs.IntVar(&f.retention, "logs.retention", 0, "retention in `days` set on the group when keel creates it (0: never expire)")
	fs.IntVar(&f.bufferMiB, "logs.buffer", 32, "memory for lines not yet delivered, in `MiB`")
	fs.DurationVar(&f.linger, "logs.linger", 200*time.Millisecond, "how long a batch that is not full waits for more lines")
	fs.IntVar(&f.inflight, "logs.inflight", 4, "PutLogEvents requests at once")
	fs.IntVar(&f.maxEvent, "logs.event.max", shipper.DefaultMaxEvent, "largest event in `bytes` (CloudWatch Logs' limit; 262118 for endpoints that keep the old 256 KiB one); longer lines are split into marked parts")
	fs.StringVar(&f.multiline, "logs.multiline", shipper.MultilineAuto, "stack traces as one event: auto (Java, Python, Go, Node.js, Ruby), off, or a `regexp` matching the first line of an event (other lines join the one before)")
	fs.IntVar(&f.nice, "logs.nice", 10, "`niceness` (0-19) of every keel thread but the two reading CMD's pipes, so that CMD comes first for the CPU; 0: same as CMD")
	fs.Var(&f.redact, "logs.redact", "redact text matching this `regexp` too (repeatable)")
	fs.StringVar(&f.redactOff, "logs.redact.off", "", "comma-separated built-in redaction `patterns` to turn off")
	fs.DurationVar(&f.flushTimeout, "flush.timeout", 10*time.Second, "after CMD exits, how long to keep delivering buffered lines")
	fs.BoolVar(&f.console, "console", true, "copy CMD's output to keel's stdout and stderr (never blocks: drops if they are slow)")
	fs.BoolVar(&f.stats, "stats", false, "print the shipper's counters, CPU time and peak memory at exit")
	if err := parse(fs, args); err != nil {
		return err
	}
	argv := fs.Args()
	switch {
	case f.group == "" || f.stream == "":
		return errors.New("-group and -stream are required")
	case len(argv) == 0:
		return errors.New("no command: give it after the flags, e.g. keel ship -group G -stream S -- myapp -port 80")
	case f.maxEvent < 256 || f.maxEvent > shipper.MaxEventLimit:
		return fmt.Errorf("-logs.event.max=%d: want 256 to %d bytes (CloudWatch Logs' event limit)", f.maxEvent, shipper.MaxEventLimit)
	case f.bufferMiB < 1:
		return fmt.Errorf("-logs.buffer=%d: want at least 1 MiB", f.bufferMiB)
	}
	if err := shipper.CheckMultiline(f.multiline); err != nil {
		return fmt.Errorf("-logs.multiline: %w", err)
	}
	// Checked here: the shipper would create the group, fail to set the
	// retention, and leave the group without one for good.
	if err := bootcfg.CheckRetentionDays(f.retention); err != nil {
		return fmt.Errorf("-logs.retention: %w", err)
	}
	var off []string
	if f.redactOff != "" {
		off = strings.Split(f.redactOff, ",")
	}
	red, err := redact.New(off, f.redact)
	if err != nil {
		return err
	}
	client, err := shipClient(context.Background(), f.region, f.endpoint)
	if err != nil {
		return err
	}
	if f.instance == "" {
		f.instance, _ = os.Hostname()
	}
	if f.image == "" {
		f.image = filepath.Base(argv[0])
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// The buffered lines live outside the Go heap (the shipper maps
		// its blocks) and the request bodies are reused, so the heap is
		// those bodies (under half the buffer) plus the SDK's and the
		// runtime's few MiB: a limit just above makes the GC collect before
		// the heap doubles, as GOGC alone would let it.
		debug.SetMemoryLimit(int64(f.bufferMiB)<<20/2 + 32<<20)
	}
	errOut := shipper.NewConsole(os.Stderr, 0)
	notice := func(m string) { errOut.WriteLine([]byte("keel ship: " + m)) }
	s, err := shipper.New(shipper.Config{
		Client: cwlsdk.Wrap(client), Group: f.group, Stream: f.stream, Format: f.format, Instance: f.instance, Image: f.image,
		RetentionDays: int32(f.retention), MaxEventBytes: f.maxEvent, BufferBytes: f.bufferMiB << 20,
		Linger: f.linger, InFlight: f.inflight, Redactor: red, Notice: notice, Multiline: f.multiline,
	})
	if err != nil {
		errOut.Close()
		return err
	}
	var stdOut *shipper.Console
	if f.console {
		stdOut = shipper.NewConsole(os.Stdout, 0)
	}
	// Registered before CMD runs, so that no moment is left between its
	// end and the flush in which a stop signal kills keel with its buffer.
	stops := make(chan os.Signal, 1)
	signal.Notify(stops, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	code, passedStop := supervise(argv, s, stdOut, errOut, f.console, min(f.nice, 19))
	if passedStop {
		select {
		case <-stops: // meant for CMD, which got it; one that came after CMD's end is the flush's
		default:
		}
	}
	exited := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), f.flushTimeout)
	go flushStops(ctx, stops, cancel, notice, f.flushTimeout, inTerminalForeground())
	if err := s.Close(ctx); err != nil {
		if ctx.Err() == context.Canceled {
			notice("stopped delivering, as a signal asked")
		} else {
			notice(fmt.Sprintf("gave up delivering after -flush.timeout=%v", f.flushTimeout))
		}
	}
	cancel()
	signal.Stop(stops)
	if f.stats {
		notice(statsLine(s.Stats()))
	}
	if st := s.Stats(); st.Dropped+st.Lost+st.Rejected > 0 {
		notice(fmt.Sprintf("%d lines shipped to %s/%s; %d dropped (buffer full), %d rejected, %d lost at exit", st.Sent, f.group, f.stream, st.Dropped, st.Rejected, st.Lost))
	}
	// The consoles too are bounded by -flush.timeout from CMD's end (but
	// get a second at least): a stdout nobody reads (a paused `| less`)
	// held keel, and CMD's status, for good.
	deadline := exited.Add(f.flushTimeout)
	if least := time.Now().Add(time.Second); deadline.Before(least) {
		deadline = least
	}
	if stdOut != nil {
		if err := stdOut.CloseWithin(time.Until(deadline)); err != nil {
			notice(fmt.Sprintf("CMD's output on stdout: %v", err))
		}
	}
	_ = errOut.CloseWithin(max(time.Until(deadline), 0))
	if code != 0 {
		os.Exit(code) // CMD's status is keel's status, without a message of keel's own
	}
	return nil
}

// flushStops handles stop signals during the final flush: the first (a
// docker stop's SIGTERM) does not end keel with the lines it still holds,
// but is answered with what it is waiting for; a second ends the flush at
// once (cancel), the rest counted as lost. A Ctrl-C at keel's terminal,
// where CMD has ended, is a person asking to stop now: it ends the flush.
func flushStops(ctx context.Context, stops <-chan os.Signal, cancel func(), notice func(string), bound time.Duration, fromTerminal bool) {
	select {
	case sig := <-stops:
		if fromTerminal && isTerminalSignal(sig) {
			cancel()
			return
		}
		notice(fmt.Sprintf("%v: still delivering what is buffered (at most -flush.timeout=%v); a second signal stops now", sig, bound))
	case <-ctx.Done():
		return
	}
	select {
	case <-stops:
		cancel()
	case <-ctx.Done():
	}
}

// statsLine is the -stats report, one line of key=value for scripts.
func statsLine(st shipper.Stats) string {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return fmt.Sprintf("stats accepted=%d sent=%d requests=%d retried=%d dropped=%d dropped_bytes=%d rejected=%d lost=%d lost_bytes=%d markers=%d joined=%d cpu_s=%.3f maxrss_kib=%d",
		st.Accepted, st.Sent, st.Requests, st.Retried, st.Dropped, st.DroppedBytes, st.Rejected, st.Lost, st.LostBytes, st.Markers, st.Joined, cpu.Seconds(), peakRSSKiB(ru.Maxrss))
}

// peakRSSKiB is keel's own peak resident memory: VmHWM, the high-water mark
// of this program's memory. getrusage's ru_maxrss carries across exec the
// peak of the process before it (Linux records the old memory's mark at
// exec, and a parent that forks with vfork shares its memory until then):
// started by a big program, keel would report that program's size.
func peakRSSKiB(fallback int64) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return fallback
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			if kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
				return kib
			}
		}
	}
	return fallback
}

// shipClient builds the CloudWatch Logs client from the standard AWS chain.
// The SDK's own retries are off in each call: the shipper retries batches.
func shipClient(ctx context.Context, region, endpoint string) (*cwl.Client, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: set AWS_REGION, a region in your AWS profile, or -region")
	}
	return cwl.NewFromConfig(cfg, func(o *cwl.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// supervise runs argv with its output on pipes read into s, passes signals
// on, and returns its exit status (128+N for signal N).
//
// passedStop reports whether a stop signal (INT, TERM, HUP, QUIT) reached
// CMD: the caller, which catches them too, then holds a copy of it.
func supervise(argv []string, s *shipper.Shipper, stdOut, errOut *shipper.Console, console bool, nice int) (code int, passedStop bool) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = os.Stdin
	outRd, outW, err := piperead.Pipe(piperead.Size)
	if err != nil {
		errOut.WriteLine([]byte("keel ship: " + err.Error()))
		return 1, passedStop
	}
	defer outRd.Close()
	errRd, errW, err := piperead.Pipe(piperead.Size)
	if err != nil {
		outW.Close()
		errOut.WriteLine([]byte("keel ship: " + err.Error()))
		return 1, passedStop
	}
	defer errRd.Close()
	cmd.Stdout, cmd.Stderr = outW, errW
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH)
	defer signal.Stop(sigs)
	// Caught, not ignored: a reader of keel's stdout that goes away (| head)
	// must not kill keel before it ships and flushes, and CMD (whose
	// handlers exec resets) keeps the default.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	fromTerminal := inTerminalForeground()
	if err := cmd.Start(); err != nil {
		outW.Close()
		errW.Close()
		errOut.WriteLine([]byte(fmt.Sprintf("keel ship: start %s: %v", argv[0], err)))
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return 127, passedStop
		}
		return 126, passedStop
	}
	outW.Close() // the child holds its own copies; EOF comes when it (and its children) close them
	errW.Close()
	type stream struct {
		r   *piperead.Reader
		p   *shipper.Pipe
		con *shipper.Console // nil: not copied to the console
	}
	streams := []stream{{outRd, s.Pipe("INFO", "stdout"), stdOut}, {errRd, s.Pipe("ERROR", "stderr"), errOut}}
	var readers sync.WaitGroup
	tids := make(chan int, len(streams))
	for _, st := range streams {
		if !console {
			st.con = nil
		}
		readers.Add(1)
		// Each reader on a thread of its own, which ends with it (locked
		// for good): a thread that is not niced must not go back to the pool.
		go func() {
			defer readers.Done()
			runtime.LockOSThread()
			tids <- syscall.Gettid()
			pump(st.r, st.p, st.con, errOut)
		}()
	}
	if nice > 0 {
		backgroundExcept(nice, <-tids, <-tids)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	for running := true; running; {
		select {
		case sig := <-sigs:
			passedStop = passedStop || isStopSignal(sig)
			if fromTerminal && isTerminalSignal(sig) {
				continue // the terminal sent it to CMD too (same process group): twice, a second Ctrl-C means force quit to many apps
			}
			cmd.Process.Signal(sig)
		case <-waited:
			running = false
		}
	}
	// A background child of CMD may keep the pipes open: read what is there,
	// but do not wait for it forever.
	done := make(chan struct{})
	go func() { readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		for _, st := range streams {
			st.r.Stop()
		}
		<-done
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ok && ws.Signaled():
		return 128 + int(ws.Signal()), passedStop
	case ok:
		return ws.ExitStatus(), passedStop
	}
	return cmd.ProcessState.ExitCode(), passedStop
}

// pump ships what r carries, copying it to con (when set) too. It only
// reads and copies: lines are split and formatted by the shipper's batcher,
// and neither the network nor the console can stop it reading.
func pump(r *piperead.Reader, p *shipper.Pipe, con, errOut *shipper.Console) {
	defer p.Close()
	err := r.Run(func(b []byte) {
		p.Write(b)
		if con != nil {
			con.Write(b)
		}
	})
	if err != nil {
		errOut.WriteLine([]byte("keel ship: " + err.Error()))
		// Closed, CMD's next write fails (EPIPE) instead of waiting
		// forever for a reader that is gone.
		r.Close()
	}
}

// inTerminalForeground reports whether keel's process group is the
// foreground group of the terminal on its stdin: then the terminal's
// signals (Ctrl-C, Ctrl-\, a resize) reach CMD, which shares the group,
// without keel.
func inTerminalForeground() bool {
	pgrp, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}

// isStopSignal reports whether s is one of those that stop keel's flush.
func isStopSignal(s os.Signal) bool {
	return s == syscall.SIGINT || s == syscall.SIGTERM || s == syscall.SIGHUP || s == syscall.SIGQUIT
}

// isTerminalSignal: the signals a terminal sends its foreground group.
func isTerminalSignal(s os.Signal) bool {
	return s == syscall.SIGINT || s == syscall.SIGQUIT || s == syscall.SIGWINCH
}
