package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/keelvm/keel/fleetsim"
)

var (
	fleetN        = flag.Int("fleet.n", 1000, "instances in the fleet simulation")
	fleetQuota    = flag.Float64("fleet.put_quota", 0, "PutLogEvents quota of the fleet simulation in requests/s (default: fleet.n, see fleetsim)")
	fleetDuration = flag.Duration("fleet.duration", 30*time.Second, "how long each simulated instance logs")
)

// benchFleet is a scale-out of fleet.n instances against the local server
// with the service's quotas (fleetsim): nothing lost or dropped,
// the account's PutLogEvents rate never exceeded, every stream created,
// lines readable within seconds, every instance flushed at shutdown.
func benchFleet(_ string, _ int) error {
	q := *fleetQuota
	if q == 0 {
		q = float64(*fleetN)
	}
	// The server's store goes on /dev/shm (fleetsim.Config.DataDir).
	res, err := fleetsim.Run(fleetsim.Config{N: *fleetN, PutQuota: q,
		Duration: *fleetDuration, Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "fleet: %d instances, %d lines, PutLogEvents quota %.0f/s: %d accepted, %d throttled, %d other %v; CreateLogStream %d created, %d already there, %d throttled; per second (accepted, throttled) %v\n",
		*fleetN, res.Logged, q, res.PutAccepted, res.PutThrottled, res.PutOther, res.PutOtherCodes, res.CreateOK, res.CreateExists, res.CreateThrottled, res.PutPerSecond)
	report("fleet.shipper_lost", float64(res.ShipperLost), "events")
	report("fleet.events_logged", float64(res.Logged), "events")
	report("fleet.events_lost", float64(res.Lost+res.Misplaced), "events")
	report("fleet.events_duplicated", float64(res.Duplicates), "events")
	report("fleet.events_dropped", float64(res.Dropped), "events")
	report("fleet.put_tps_peak_ratio", res.PeakRatio(), "ratio")
	report("fleet.throttled_ratio", res.ThrottledRatio(), "ratio")
	report("fleet.events_per_request", float64(res.Logged)/float64(max(res.PutAccepted, 1)), "events")
	report("fleet.streams_ready", float64(res.StreamsReady), "streams")
	report("fleet.stream_ready_p99_ms", ms(res.StreamReadyP99), "ms")
	report("fleet.stream_ready_max_ms", ms(res.StreamReadyMax), "ms")
	report("fleet.latency_p50_ms", ms(fleetsim.Percentile(res.Latency, 50)), "ms")
	report("fleet.latency_p99_ms", ms(fleetsim.Percentile(res.Latency, 99)), "ms")
	report("fleet.latency_p99_with_stream_wait_ms", ms(fleetsim.Percentile(res.LatencyAll, 99)), "ms")
	report("fleet.flush_all_s", res.FlushAll.Seconds(), "s")
	report("fleet.flush_timeouts", float64(res.CloseErrors), "instances")
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
