package insights

import (
	"context"
	"math/rand"
	"strconv"
	"testing"
	"time"
)

// BenchmarkStatsJSON runs the stats_10m_s figure's query over JSON events
// in memory: the engine's own cost, without the store.
func BenchmarkStatsJSON(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	msgs := make([][]byte, 1000)
	for i := range msgs {
		msgs[i] = []byte(`{"service":"svc` + strconv.Itoa(rng.Intn(8)) + `","level":"INFO","latency":` + strconv.Itoa(rng.Intn(1000)) + `,"path":"/api/items"}`)
	}
	q, err := Parse(`stats avg(latency), pct(latency, 99) by service, bin(1m)`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	e := q.NewExec(0)
	e.Run(context.Background(), func(yield func(*Event) bool) error {
		ev := Event{Group: "g", Stream: "s"}
		for i := 0; i < b.N; i++ {
			ev.Timestamp = int64(i) * 1
			ev.Message = msgs[i%len(msgs)]
			yield(&ev)
		}
		return nil
	})
	b.StopTimer()
	t0 := time.Now()
	rows := e.Results()
	b.ReportMetric(float64(time.Since(t0).Microseconds())/1000, "results-ms")
	b.ReportMetric(float64(len(rows)), "rows")
}
