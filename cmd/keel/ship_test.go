package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/keelvm/keel/internal/testutil"
	"github.com/keelvm/keel/logserver"
)

// shipServer runs keel's log server in-process with SigV4 auth and returns
// its endpoint and data directory (whose credentials file holds the admin key).
func shipServer(t *testing.T) (endpoint, data string) {
	t.Helper()
	data = t.TempDir()
	st, stop, err := logserver.Start(logserver.RunConfig{Addr: "127.0.0.1:0", DataDir: data, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop() })
	return st.Endpoint, data
}

// shipEnv points keel ship at endpoint with the credentials in credFile.
func shipEnv(endpoint, credFile string) []string {
	return []string{"AWS_SHARED_CREDENTIALS_FILE=" + credFile, "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=" + endpoint}
}

// messages reads every message of group/stream from the start.
func messages(t *testing.T, c *cwl.Client, group, stream string) []string {
	t.Helper()
	var out []string
	var token *string
	for {
		r, err := c.GetLogEvents(context.Background(), &cwl.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
			StartFromHead: aws.Bool(true), NextToken: token})
		if err != nil {
			t.Fatalf("get events %s/%s: %v", group, stream, err)
		}
		for _, e := range r.Events {
			out = append(out, *e.Message)
		}
		if len(r.Events) == 0 || (token != nil && *r.NextForwardToken == *token) {
			return out
		}
		token = r.NextForwardToken
	}
}

// checkLines asserts that msgs hold "line 1".."line n" exactly once each.
func checkLines(t *testing.T, msgs []string, n int) {
	t.Helper()
	seen := map[int]int{}
	for _, m := range msgs {
		if i := strings.Index(m, "line "); i >= 0 {
			var k int
			fmt.Sscanf(m[i:], "line %d", &k)
			seen[k]++
		}
	}
	for k := 1; k <= n; k++ {
		if seen[k] != 1 {
			t.Fatalf("line %d delivered %d times (%d messages)", k, seen[k], len(msgs))
		}
	}
}

const shipScript = `for i in $(seq 1 3000); do echo "line $i"; done; echo '{"requestId":"r-9","msg":"json line"}'; echo "AKIAIOSFODNN7EXAMPLE to stderr" >&2; exit 7`

func TestShipLocalServer(t *testing.T) {
	endpoint, data := shipServer(t)
	r := keelEnv(t, t.TempDir(), shipEnv(endpoint, filepath.Join(data, "credentials")),
		"ship", "-group", "keel/dev", "-stream", "alice/app", "-logs.retention", "7", "-instance", "i-1", "-console=false", "--", "sh", "-c", shipScript)
	if r.code != 7 {
		t.Fatalf("exit %d, want the command's 7: %s", r.code, r.stderr)
	}
	c := adminClient(t, data, endpoint)
	msgs := messages(t, c, "keel/dev", "alice/app")
	checkLines(t, msgs, 3000)
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		`{"instance":"i-1","image":"sh","level":"INFO","message":"line 1","source":"stdout"}`,
		`{"instance":"i-1","image":"sh","level":"INFO","requestId":"r-9","msg":"json line"}`,
		`"level":"ERROR","message":"[REDACTED] to stderr","source":"stderr"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("stream lacks %s", want)
		}
	}
	g, err := c.DescribeLogGroups(context.Background(), &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("keel/dev")})
	if err != nil || len(g.LogGroups) != 1 || g.LogGroups[0].RetentionInDays == nil || *g.LogGroups[0].RetentionInDays != 7 {
		t.Fatalf("group: %+v %v", g, err)
	}
}

// TestShipLineEdges: lines reach the stream whole however CMD writes them:
// CRLF endings, a line written in pieces, empty lines (skipped), a last line
// without its newline, and invalid UTF-8 (replaced, as the service would).
func TestShipLineEdges(t *testing.T) {
	endpoint, data := shipServer(t)
	c := adminClient(t, data, endpoint)
	cases := []struct {
		name, script string
		want         []string
		anyOrder     bool // two pipes: their readers race
	}{
		{"crlf", `printf 'a\r\nb\r\n'`, []string{"a", "b"}, false},
		{"pieces", `printf 'li'; sleep 0.1; printf 'ne 1\nline'; sleep 0.1; printf ' 2\n'`, []string{"line 1", "line 2"}, false},
		{"empty lines", `printf '\n\nx\n\n'`, []string{"x"}, false},
		{"no final newline", `printf 'a\nlast'`, []string{"a", "last"}, false},
		{"stderr too", `printf 'out\n'; printf 'err' >&2`, []string{"err", "out"}, true},
		{"invalid utf-8", `printf 'a\377b\n'`, []string{"a\uFFFDb"}, false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stream := fmt.Sprintf("edge-%d", i)
			r := keelEnv(t, t.TempDir(), shipEnv(endpoint, filepath.Join(data, "credentials")),
				"ship", "-group", "edges", "-stream", stream, "-format", "text", "-console=false", "--", "sh", "-c", tc.script)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			got := messages(t, c, "edges", stream)
			if tc.anyOrder {
				slices.Sort(got)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("events %q, want %q", got, tc.want)
			}
		})
	}
}

// TestShipMoto ships to moto_server, an independent implementation of the
// API: keel speaks the real protocol, not its own dialect.
func TestShipMoto(t *testing.T) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		testutil.Unavailable(t, "moto_server not installed")
	}
	port := freePort(t)
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			break
		}
		if i > 200 {
			t.Fatal("moto_server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	creds := []string{"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=" + endpoint}
	r := keelEnv(t, t.TempDir(), creds, "ship", "-group", "moto/dev", "-stream", "app", "-format", "text", "-console=false", "--", "sh", "-c", shipScript)
	if r.code != 7 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	c := cwl.New(cwl.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
	msgs := messages(t, c, "moto/dev", "app")
	checkLines(t, msgs, 3000)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestShipForwardsSignals: SIGTERM to keel reaches the command, whose last
// words are shipped, and keel exits with the command's status.
func TestShipForwardsSignals(t *testing.T) {
	endpoint, data := shipServer(t)
	cmd := exec.Command(os.Args[0], "ship", "-group", "g", "-stream", "sig", "-format", "text", "-console=false", "--",
		"sh", "-c", `trap 'echo "line 2"; exit 0' TERM; echo "line 1"; while :; do sleep 0.05; done`)
	cmd.Env = append(cleanEnv(), append(shipEnv(endpoint, filepath.Join(data, "credentials")), "KEEL_TEST_AS_KEEL=1")...)
	var out testutil.SyncBuffer
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := adminClient(t, data, endpoint)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := c.GetLogEvents(context.Background(), &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("sig")}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("line 1 never arrived: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("exit: %v: %s", err, out.String())
	}
	checkLines(t, messages(t, c, "g", "sig"), 2)

	// A command killed by a signal: keel exits 128+N.
	r := keelEnv(t, t.TempDir(), shipEnv(endpoint, filepath.Join(data, "credentials")), "ship", "-group", "g", "-stream", "kill", "--", "sh", "-c", "kill -KILL $$")
	if r.code != 128+9 {
		t.Fatalf("killed command: exit %d, want 137: %s", r.code, r.stderr)
	}
	r = keelEnv(t, t.TempDir(), shipEnv(endpoint, filepath.Join(data, "credentials")), "ship", "-group", "g", "-stream", "x", "--", "/no/such/program")
	if r.code != 127 {
		t.Fatalf("missing program: exit %d, want 127: %s", r.code, r.stderr)
	}
}

// TestShipNeverBlocksWithServerDown: an app writing as fast as it can while
// the endpoint accepts connections and never answers is not slowed beyond
// the cost of the pipe, keel's memory stays within its bound, and keel
// exits within -flush.timeout. The 1 GiB is scaled to 256 MiB to
// keep the test suite fast; the behaviour does not depend on the size.
func TestShipNeverBlocksWithServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() { // a black hole: accept, read, never answer
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c)
		}
	}()
	size := "256M"
	if raceEnabled {
		size = "32M"
	}
	app := `yes "0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 012345678" | head -c ` + size
	start := time.Now()
	base := exec.Command("sh", "-c", app+" | cat >/dev/null")
	if err := base.Run(); err != nil {
		t.Fatal(err)
	}
	baseline := time.Since(start)

	creds := []string{"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=http://" + l.Addr().String()}
	cmd := exec.Command(os.Args[0], "ship", "-group", "g", "-stream", "s", "-console=false", "-logs.buffer", "16", "-flush.timeout", "1s", "--", "sh", "-c", app)
	cmd.Env = append(cleanEnv(), append(creds, "KEEL_TEST_AS_KEEL=1")...)
	var errb testutil.SyncBuffer
	cmd.Stderr = &errb
	start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	peak := 0
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-time.After(20 * time.Millisecond):
			peak = max(peak, rssKiB(cmd.Process.Pid))
		}
	}
	took := time.Since(start)
	if cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("exit %d: %s", cmd.ProcessState.ExitCode(), errb.String())
	}
	if !strings.Contains(errb.String(), "dropped (buffer full)") {
		t.Errorf("no drop report: %s", errb.String())
	}
	t.Logf("app alone %v, under keel ship with the server down %v; keel peak RSS %d MiB", baseline, took, peak>>10)
	if raceEnabled {
		return // the race detector's own cost dwarfs keel's
	}
	if took > 20*baseline+5*time.Second {
		t.Errorf("the app was slowed down: %v vs %v", took, baseline)
	}
	if peak>>10 > 16+64 {
		t.Errorf("peak RSS %d MiB with a 16 MiB buffer", peak>>10)
	}
}

func rssKiB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return 0
}

// TestShipPriorities: CMD runs at keel's own priority, keel's two pipe
// readers too, and every other thread of keel at -logs.nice, or at keel's
// own when that is lower already.
func TestShipPriorities(t *testing.T) {
	endpoint, data := shipServer(t)
	prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	if err != nil {
		t.Fatal(err)
	}
	base := 20 - prio // Linux's getpriority returns 20 - nice
	script := `sleep 0.5; awk '{print "cmd", $19}' /proc/self/stat; for s in /proc/$PPID/task/*/stat; do awk '{print "keel", $19}' $s; done`
	for i, tc := range []struct {
		name        string
		start, nice int // keel started at nice base+start, with -logs.nice
	}{
		{"nice 7", 0, 7},
		{"started at a lower priority than -logs.nice", 12, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			own := min(base+tc.start, 19)
			bg := max(tc.nice, own)
			stream := fmt.Sprintf("s%d", i)
			// Started by nice(1), as a user would start it.
			cmd := exec.Command("nice", "-n", fmt.Sprint(tc.start), os.Args[0], "ship", "-group", "prio", "-stream", stream,
				"-format", "text", "-console=false", "-logs.nice", fmt.Sprint(tc.nice), "--", "sh", "-c", script)
			cmd.Env = append(cleanEnv(), "KEEL_TEST_AS_KEEL=1", "KEEL_HOME="+t.TempDir())
			cmd.Env = append(cmd.Env, shipEnv(endpoint, filepath.Join(data, "credentials"))...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("keel ship: %v: %s", err, out)
			}
			count := map[string]int{}
			for _, m := range messages(t, adminClient(t, data, endpoint), "prio", stream) {
				count[m]++
			}
			cmdAt, reader, other := fmt.Sprintf("cmd %d", own), fmt.Sprintf("keel %d", own), fmt.Sprintf("keel %d", bg)
			ok := count[cmdAt] == 1 && count[other] >= 3
			if bg != own {
				ok = ok && count[reader] == 2 && len(count) == 3
			} else {
				ok = ok && len(count) == 2
			}
			if !ok {
				t.Fatalf("want CMD and two keel threads at nice %d, the other threads at %d; got %v", own, bg, count)
			}
		})
	}
}

// TestShipStatsRSSIsKeelsOwn: -stats reports keel's own peak memory, not
// that of the program that started it (ru_maxrss carries across exec).
func TestShipStatsRSSIsKeelsOwn(t *testing.T) {
	big := make([]byte, 256<<20)
	for i := 0; i < len(big); i += 4096 {
		big[i] = 1
	}
	r := keelEnv(t, t.TempDir(), shipEnv("http://127.0.0.1:1", filepath.Join(t.TempDir(), "credentials")),
		"ship", "-group", "g", "-stream", "s", "-console=false", "-stats", "-flush.timeout", "100ms", "--", "true")
	runtime.KeepAlive(big)
	m := regexp.MustCompile(`maxrss_kib=(\d+)`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("no maxrss in: %s", r.stderr)
	}
	kib, _ := strconv.Atoi(m[1])
	if kib > 128<<10 {
		t.Fatalf("keel ship reports %d KiB, the size of the test that started it", kib)
	}
}

// TestShipStdoutClosedEarly: keel's own stdout reader goes away (as with
// `| head`): keel must not die of SIGPIPE; CMD's lines are all shipped,
// its exit code kept, and keel exits at once after CMD (no wait for the
// flush timeout when everything is delivered).
func TestShipStdoutClosedEarly(t *testing.T) {
	endpoint, data := shipServer(t)
	home := t.TempDir()
	cmd := exec.Command(os.Args[0], "ship", "-group", "g", "-stream", "epipe", "-format", "text", "--",
		"sh", "-c", `for i in $(seq 1 2000); do echo "line $i"; done; sleep 0.5; echo "line 2001"; exit 7`)
	cmd.Env = append(cleanEnv(), "KEEL_TEST_AS_KEEL=1", "KEEL_HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "no-aws-config"))
	cmd.Env = append(cmd.Env, shipEnv(endpoint, filepath.Join(data, "credentials"))...)
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = wr
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	wr.Close()
	rd.Read(make([]byte, 10))
	rd.Close()
	t0 := time.Now()
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("keel ship with its stdout closed: %v, want CMD's exit code 7; stderr:\n%s", err, stderr.String())
	}
	if el := time.Since(t0); el > 5*time.Second {
		t.Errorf("keel ship took %v after its stdout closed; CMD takes 0.5 s and delivery less", el)
	}
	if n := len(messages(t, adminClient(t, data, endpoint), "g", "epipe")); n != 2001 {
		t.Fatalf("%d of 2001 lines shipped; stderr:\n%s", n, stderr.String())
	}
}

// TestShipSignalDuringFlush: a stop signal while keel delivers what CMD
// left (a docker stop after CMD ended) does not end keel with those lines;
// it says what it waits for, and a second signal ends the flush at once
// with CMD's status.
func TestShipSignalDuringFlush(t *testing.T) {
	cmd, done, errb := startFlushing(t, "echo one; echo two; exit 3", nil)
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		t.Fatalf("keel ended at the first signal during the flush (%v): %s", cmd.ProcessState, errb.String())
	case <-time.After(500 * time.Millisecond):
	}
	if !strings.Contains(errb.String(), "terminated: still delivering what is buffered") {
		t.Errorf("no word of the flush it waits for: %s", errb.String())
	}
	secondSignalEnds(t, cmd, done, errb)
	for _, w := range []string{"stopped delivering, as a signal asked", "2 lost at exit"} {
		if !strings.Contains(errb.String(), w) {
			t.Errorf("stderr lacks %q: %s", w, errb.String())
		}
	}
}

// startFlushing starts keel ship with script as CMD and an endpoint where
// nothing answers, so that once CMD has ended keel flushes for up to 30 s;
// it returns when CMD has ended. setup, if set, adjusts the command first.
// keel is killed at the test's end if still running.
func startFlushing(t *testing.T, script string, setup func(*exec.Cmd)) (*exec.Cmd, <-chan struct{}, *testutil.SyncBuffer) {
	t.Helper()
	creds := []string{"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=http://127.0.0.1:1"}
	cmd := exec.Command(os.Args[0], "ship", "-group", "g", "-stream", "s", "-console=false", "-flush.timeout", "30s", "--", "sh", "-c", script)
	cmd.Env = append(cleanEnv(), append(creds, "KEEL_TEST_AS_KEEL=1")...)
	errb := &testutil.SyncBuffer{}
	cmd.Stderr = errb
	if setup != nil {
		setup(cmd)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill()
			<-done
		}
	})
	time.Sleep(time.Second) // CMD has ended; keel is flushing
	return cmd, done, errb
}

// TestShipSignalAfterCMDEnded: a stop signal that comes after CMD ended,
// while keel still reads what a background child of CMD holds open, is
// the flush's first signal: it gets its answer, and a second ends the
// flush. It was taken for a signal passed on to CMD and dropped, so that
// a second signal only got the answer and a third was needed.
func TestShipSignalAfterCMDEnded(t *testing.T) {
	mark := filepath.Join(t.TempDir(), "ended")
	cmd, done, errb := startFlushing(t, `echo one; sleep 1.2; (sleep 5) & touch "`+mark+`"; exit 3`, nil)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(mark); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CMD did not end: %s", errb.String())
		}
	}
	time.Sleep(100 * time.Millisecond) // CMD has exited; its child holds the pipes for keel's last second of reading
	cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(1500 * time.Millisecond)
	if !strings.Contains(errb.String(), "terminated: still delivering what is buffered") {
		t.Errorf("no answer to the signal: %s", errb.String())
	}
	secondSignalEnds(t, cmd, done, errb)
}

// secondSignalEnds sends keel, flushing after a first stop signal, a second
// one, which must end it with CMD's status, 3.
func secondSignalEnds(t *testing.T, cmd *exec.Cmd, done <-chan struct{}, errb *testutil.SyncBuffer) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	endsWith3(t, cmd, done, errb, "a second signal did not end the flush")
}

// endsWith3 waits for keel's end, with CMD's status 3, failing with what
// when it does not come within 5 s.
func endsWith3(t *testing.T, cmd *exec.Cmd, done <-chan struct{}, errb *testutil.SyncBuffer, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: %s", what, errb.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Errorf("exit %d, want CMD's 3: %s", code, errb.String())
	}
}
