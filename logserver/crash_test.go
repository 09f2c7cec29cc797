package logserver_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/keelvm/keel/logserver"
	"github.com/keelvm/keel/logserver/auth"
)

func errorsIsRunning(err error) bool { return errors.Is(err, logserver.ErrAlreadyRunning) }

// serverProcess starts the test binary as a log server on dir.
func serverProcess(t *testing.T, dir string) (*exec.Cmd, *testServer) {
	t.Helper()
	os.Remove(dir + "/logserver.json")
	cmd := exec.Command(os.Args[0], serveMarker, dir)
	logf, err := os.OpenFile(dir+"/server.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if st, err := logserver.ReadState(dir); err == nil && st.PID == cmd.Process.Pid {
			kr, _, err := auth.OpenKeyring(dir)
			if err != nil {
				t.Fatal(err)
			}
			admin, _ := kr.Admin()
			return cmd, &testServer{dir: dir, endpoint: st.Endpoint, keys: kr, admin: admin}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("server process not ready")
	return nil, nil
}

// TestCrashKeepsAcknowledgedEvents kills the server with SIGKILL while
// several clients write, restarts it, and checks that every acknowledged
// event is there exactly once, that batches are all-or-nothing, and that
// nothing that was never sent is served.
func TestCrashKeepsAcknowledgedEvents(t *testing.T) {
	dir := t.TempDir()
	acked := map[string]int{} // batch id -> events, over all rounds
	var mu sync.Mutex
	for round := 0; round < 3; round++ {
		cmd, ts := serverProcess(t, dir)
		c := ts.adminClient()
		ctx := ctxT(t)
		if round == 0 {
			c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("crash")})
			for s := 0; s < 4; s++ {
				c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("crash"), LogStreamName: aws.String(fmt.Sprint("s", s))})
			}
		}
		before := len(acked)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				cl := ts.client(ts.admin)
				for b := 0; ; b++ {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprintf("r%d-w%d-b%d", round, w, b)
					n := 1 + (b*7+w)%50
					evs := make([]types.InputLogEvent, n)
					for i := range evs {
						evs[i] = types.InputLogEvent{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String(fmt.Sprintf("%s-e%d-%s", id, i, "payload payload payload"))}
					}
					_, err := cl.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("crash"), LogStreamName: aws.String(fmt.Sprint("s", w%4)), LogEvents: evs})
					if err != nil {
						return // the server died under us: not acknowledged
					}
					mu.Lock()
					acked[id] = n
					mu.Unlock()
				}
			}(w)
		}
		time.Sleep(time.Duration(700+round*300) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		close(stop)
		wg.Wait()
		if len(acked) == before {
			t.Fatalf("round %d: nothing acknowledged before the kill", round)
		}

		_, ts2 := serverProcess(t, dir)
		got := map[string]map[int]int{} // batch -> event index -> count
		p := cwl.NewFilterLogEventsPaginator(ts2.adminClient(), &cwl.FilterLogEventsInput{LogGroupName: aws.String("crash")})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range page.Events {
				var r, w, b, i int
				var tail string
				if _, err := fmt.Sscanf(*ev.Message, "r%d-w%d-b%d-e%d-%s", &r, &w, &b, &i, &tail); err != nil {
					t.Fatalf("served an event that was never sent: %q", *ev.Message)
				}
				id := fmt.Sprintf("r%d-w%d-b%d", r, w, b)
				if got[id] == nil {
					got[id] = map[int]int{}
				}
				got[id][i]++
			}
		}
		for id, n := range acked {
			if len(got[id]) != n {
				t.Fatalf("round %d: acknowledged batch %s has %d of %d events after the crash", round, id, len(got[id]), n)
			}
		}
		for id, evs := range got {
			for i, cnt := range evs {
				if cnt != 1 {
					t.Fatalf("event %s-e%d served %d times", id, i, cnt)
				}
			}
			// Batches in flight at the kill are all there or not at all.
			var r, w, b int
			fmt.Sscanf(id, "r%d-w%d-b%d", &r, &w, &b)
			if n := 1 + (b*7+w)%50; len(evs) != n {
				t.Fatalf("batch %s torn: %d of %d events served", id, len(evs), n)
			}
		}
		t.Logf("round %d: %d batches acknowledged so far, %d served after restart", round, len(acked), len(got))
		if st, err := logserver.Stop(dir, 20*time.Second); err != nil {
			t.Fatalf("stop after round %d: %v (%+v)", round, err, st)
		}
	}
}

func TestDaemonStartIsIdempotentAndRaceFree(t *testing.T) {
	dir := t.TempDir()
	cmd := []string{os.Args[0], serveMarker, dir}
	var wg sync.WaitGroup
	states := make([]logserver.State, 4)
	errs := make([]error, 4)
	for i := range states {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			states[i], _, errs[i] = logserver.StartDaemon(logserver.DaemonConfig{Command: cmd, DataDir: dir})
		}(i)
	}
	wg.Wait()
	t.Cleanup(func() { logserver.Stop(dir, 20*time.Second) })
	for i := range states {
		if errs[i] != nil {
			t.Fatalf("start %d: %v", i, errs[i])
		}
		if states[i].PID != states[0].PID || states[i].Endpoint != states[0].Endpoint {
			t.Fatalf("two servers: %+v vs %+v", states[i], states[0])
		}
	}
	st, started, err := logserver.StartDaemon(logserver.DaemonConfig{Command: cmd, DataDir: dir})
	if err != nil || started || st.PID != states[0].PID {
		t.Fatalf("restart not idempotent: %+v %v %v", st, started, err)
	}
	if _, err := logserver.Stop(dir, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := logserver.ReadState(dir); err == nil {
		t.Fatal("state still readable after stop")
	}
}
