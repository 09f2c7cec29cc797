// Command bench measures keel's figures and prints one line per figure:
// "BENCH <name> <value> <unit>". Ratios compare against baselines measured
// in the same run, because these machines are noisy. `make bench` runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"time"
)

func main() {
	dir := flag.String("dir", "", "scratch directory (default: a new temp dir, removed at the end)")
	only := flag.String("only", "", "run only the figures whose name starts with this")
	gib := flag.Int("range.mib", 1024, "MiB of events in the stream read by the get_range figure")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this `file`")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	scratch := *dir
	if scratch == "" {
		d, err := os.MkdirTemp("", "keel-bench-")
		if err != nil {
			fail(err)
		}
		defer os.RemoveAll(d)
		scratch = d
	}
	start := time.Now()
	for _, b := range benches {
		if *only != "" && !hasPrefix(b.name, *only) {
			continue
		}
		if err := b.run(scratch, *gib); err != nil {
			fail(fmt.Errorf("%s: %w", b.name, err))
		}
	}
	fmt.Fprintf(os.Stderr, "bench: done in %v\n", time.Since(start).Round(time.Second))
}

type bench struct {
	name string
	run  func(scratch string, rangeMiB int) error
}

var benches = []bench{
	{"logserver", benchLogserver},
	{"insights", benchInsights},
	{"ship", benchShip},
	{"ship-multiline", benchMultiline},
	{"boot", benchBoot},
	{"imds", benchIMDS},
	{"leaninit", benchLeanInit},
	{"image", benchImage},
	{"fleet", benchFleet},
	{"run.python", benchPython},
	{"appdisk.threshold", benchThreshold},
}

func report(name string, value float64, unit string) {
	fmt.Printf("BENCH %s %.3f %s\n", name, value, unit)
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func fail(err error) {
	fmt.Fprintf(os.Stderr, "bench: %v\n", err)
	os.Exit(1)
}
