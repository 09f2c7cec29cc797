package fleetsim_test

import (
	"testing"
	"time"

	"github.com/keelvm/keel/fleetsim"
)

// TestFleet100 is the scale-out of make test: 100 instances started within
// a second against the local server with the service's quotas
// (PutLogEvents scaled to 100/s, CreateLogStream 50/s), logging with
// bursts, then all flushed at once. Nothing may be lost, duplicated or
// dropped, no instance may give up its stream, and the server must never
// have accepted more PutLogEvents in a second than its quota.
func TestFleet100(t *testing.T) {
	res, err := fleetsim.Run(fleetsim.Config{N: 100, Duration: 8 * time.Second, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", summary(res))
	if res.Lost != 0 || res.Duplicates != 0 || res.Dropped != 0 || res.Misplaced != 0 || res.CloseErrors != 0 {
		t.Errorf("lost %d, duplicates %d, dropped %d, misplaced %d, flush timeouts %d of %d lines",
			res.Lost, res.Duplicates, res.Dropped, res.Misplaced, res.CloseErrors, res.Logged)
	}
	if res.StreamsReady != 100 {
		t.Errorf("%d of 100 streams created", res.StreamsReady)
	}
	if res.PutThrottled == 0 {
		t.Errorf("the fleet was never throttled: the test does not test what it says")
	}
	// The server admits at most its rate in any one-second window. The
	// count bins requests by their arrival, a little before the server
	// admits them (body read, signature checked), so a request admitted
	// early in a second may count in the one before: 5% of slack for it.
	if r := res.PeakRatio(); r > 1.05 {
		t.Errorf("the server accepted %.0f PutLogEvents in one second, %.2f times its quota of %.0f/s", res.PutPeakPerS, r, res.PutQuota)
	}
}

func summary(r *fleetsim.Result) map[string]any {
	return map[string]any{
		"logged": r.Logged, "lost": r.Lost, "dup": r.Duplicates, "dropped": r.Dropped,
		"put_ok": r.PutAccepted, "put_throttled": r.PutThrottled, "put_other": r.PutOther, "peak_ratio": r.PeakRatio(),
		"throttled_ratio": r.ThrottledRatio(), "create_ok": r.CreateOK, "create_throttled": r.CreateThrottled,
		"ready_p50": r.StreamReadyP50, "ready_p99": r.StreamReadyP99, "ready_max": r.StreamReadyMax,
		"lat_p50": fleetsim.Percentile(r.Latency, 50), "lat_p99": fleetsim.Percentile(r.Latency, 99),
		"lat_all_p99": fleetsim.Percentile(r.LatencyAll, 99), "flush_all": r.FlushAll, "requests": r.Requests,
		"notices": r.Notices, "per_s": r.PutPerSecond,
	}
}
