package store

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchDirs are removed after all tests and benchmarks: the read benchmark's
// stream is too big to rebuild for every b.N round.
var (
	benchDirsMu sync.Mutex
	benchDirs   []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range benchDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

func BenchmarkAppend1MiB(b *testing.B) {
	s := openStore(b, b.TempDir(), Options{})
	newStream(b, s, "g", "s")
	const n = 512
	evs := make([]Event, n)
	msg := strings.Repeat("m", (1<<20)/n-eventHeaderLen)
	b.SetBytes(1 << 20)
	b.ResetTimer()
	for i := range b.N {
		for k := range evs {
			evs[k] = Event{int64(i*n + k), msg}
		}
		if _, _, err := s.Append("g", "s", evs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendSmallParallel has many goroutines append one small event
// each to one stream; group commit lets them share fsyncs.
func BenchmarkAppendSmallParallel(b *testing.B) {
	s := openStore(b, b.TempDir(), Options{})
	newStream(b, s, "g", "s")
	msg := strings.Repeat("x", 150)
	var ts atomic.Int64
	b.SetParallelism(16) // 16 × GOMAXPROCS appenders
	syncs0 := s.syncs.Load()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := s.Append("g", "s", []Event{{ts.Add(1), msg}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(s.syncs.Load()-syncs0)/float64(b.N), "fsyncs/op")
}

// BenchmarkAppendSmallStreams appends small events to many streams in
// parallel: no lock is shared across streams during I/O.
func BenchmarkAppendSmallStreams(b *testing.B) {
	s := openStore(b, b.TempDir(), Options{})
	const streams = 32
	for i := range streams {
		newStream(b, s, "g", fmt.Sprint("s", i))
	}
	msg := strings.Repeat("x", 150)
	var next atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		st := fmt.Sprint("s", next.Add(1)%streams)
		for i := 0; pb.Next(); i++ {
			if _, _, err := s.Append("g", st, []Event{{int64(i), msg}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

var (
	readBenchOnce sync.Once
	readBenchDir  string
	readBenchSpan [2]int64
	readBenchErr  error
)

// readBenchMiB is the size of the read benchmark's stream; set
// KEEL_BENCH_READ_MIB to change it.
func readBenchMiB() int {
	if v, err := strconv.Atoi(os.Getenv("KEEL_BENCH_READ_MIB")); err == nil && v > 0 {
		return v
	}
	return 1024
}

// buildReadBench writes a stream of about readBenchMiB MiB covering one day:
// records of 100 events of 256 bytes, timestamps mostly increasing with
// every 20th record a late arrival up to 10 minutes old.
func buildReadBench(b *testing.B) (string, [2]int64) {
	readBenchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "keel-store-bench-")
		if err != nil {
			readBenchErr = err
			return
		}
		benchDirsMu.Lock()
		benchDirs = append(benchDirs, dir)
		benchDirsMu.Unlock()
		start := time.Now()
		s, err := Open(dir, Options{NoSync: true})
		if err != nil {
			readBenchErr = err
			return
		}
		defer s.Close()
		if err := s.CreateGroup("g", nil); err != nil {
			readBenchErr = err
			return
		}
		if err := s.CreateStream("g", "s"); err != nil {
			readBenchErr = err
			return
		}
		const perRecord, msgLen = 100, 256 - eventHeaderLen
		records := readBenchMiB() << 20 / (perRecord*256 + recHeaderLen + payloadHeaderLen)
		day := int64(24 * time.Hour / time.Millisecond)
		step := day / int64(records*perRecord)
		t0 := int64(1_700_000_000_000)
		r := rand.New(rand.NewPCG(3, 4))
		msg := strings.Repeat("l", msgLen)
		evs := make([]Event, perRecord)
		for i := range records {
			base := t0 + int64(i*perRecord)*step
			if i%20 == 0 {
				base -= r.Int64N(10 * 60 * 1000)
			}
			for k := range evs {
				evs[k] = Event{base + int64(k)*step, msg}
			}
			if _, _, err := s.Append("g", "s", evs); err != nil {
				readBenchErr = err
				return
			}
		}
		st, _ := s.Stream("g", "s")
		readBenchSpan = [2]int64{st.FirstEventTimestamp, st.LastEventTimestamp}
		b.Logf("built %d MiB in %d records in %v", st.StoredBytes>>20, records, time.Since(start).Round(time.Millisecond))
		readBenchDir = dir
	})
	if readBenchErr != nil {
		b.Fatal(readBenchErr)
	}
	return readBenchDir, readBenchSpan
}

func BenchmarkReadRange(b *testing.B) {
	dir, span := buildReadBench(b)
	start := time.Now()
	s := openStore(b, dir, Options{NoSync: true})
	b.Logf("Open took %v", time.Since(start).Round(time.Microsecond))
	minute := int64(60 * 1000)
	tests := []struct {
		name string
		opts func(r *rand.Rand) ReadOptions
	}{
		{"window1m", func(r *rand.Rand) ReadOptions {
			t := span[0] + r.Int64N(span[1]-span[0]-minute)
			return ReadOptions{Range: Range{Start: t, End: t + minute}, Limit: 10000}
		}},
		{"window1m-backward", func(r *rand.Rand) ReadOptions {
			t := span[0] + r.Int64N(span[1]-span[0]-minute)
			return ReadOptions{Range: Range{Start: t, End: t + minute}, Limit: 10000, Backward: true}
		}},
		{"window1h-limit100", func(r *rand.Rand) ReadOptions {
			t := span[0] + r.Int64N(span[1]-span[0]-60*minute)
			return ReadOptions{Range: Range{Start: t, End: t + 60*minute}, Limit: 100}
		}},
		{"head-limit100", func(*rand.Rand) ReadOptions { return ReadOptions{Limit: 100} }},
		{"tail-limit100", func(*rand.Rand) ReadOptions { return ReadOptions{Limit: 100, Backward: true} }},
		{"all-limit10000-1MB", func(*rand.Rand) ReadOptions { return ReadOptions{Limit: 10000, MaxBytes: 1 << 20} }},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(5, 6))
			events := 0
			for range b.N {
				evs, err := s.Read("g", "s", tt.opts(r))
				if err != nil {
					b.Fatal(err)
				}
				events += len(evs)
			}
			b.ReportMetric(float64(events)/float64(b.N), "events/op")
		})
	}
}
