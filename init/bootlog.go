package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/keelvm/keel/bootlog"
	"github.com/keelvm/keel/shipper"
)

// maxBootRecords bounds what init keeps of the kernel log until it can be
// shipped: a boot writes a few hundred records; a kernel that floods is
// cut, and the cut is counted.
const maxBootRecords = 4096

// bootRecords collects the kernel log from its first record on.
type bootRecords struct {
	mu      sync.Mutex
	records []bootlog.Record
	dropped int
	lost    uint64
	err     error
	ship    eventLog // once attached, records go here as they come
}

// eventLog is what records are shipped to: a *shipper.Shipper.
type eventLog interface{ Log(shipper.Event) }

// lostEvent reports n records the kernel overwrote before they were read.
func lostEvent(n uint64, at time.Time) shipper.Event {
	return shipper.Event{Time: at, Level: "WARN", Source: "kernel", Message: fmt.Sprintf("keel: %d kernel log records were overwritten before they could be read", n)}
}

func kernelEvent(r bootlog.Record) shipper.Event {
	return shipper.Event{Time: r.Time, Level: r.Level(), Source: "kernel", Message: r.Message}
}

// attach ships what was collected and every later record.
func (br *bootRecords) attach(s eventLog) {
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.lost > 0 {
		s.Log(lostEvent(br.lost, time.Time{}))
	}
	for _, r := range br.records {
		s.Log(kernelEvent(r))
	}
	br.ship = s
}

// errNotOwnKernel is why a container's init does not read /dev/kmsg: the
// kernel's log there is the host's, which is not the app's to ship.
var errNotOwnKernel = errors.New("the kernel is the host's (a container): its log is not read")

// collectBootLog starts reading /dev/kmsg in the background.
func collectBootLog() *bootRecords {
	br := &bootRecords{}
	f, err := os.Open("/dev/kmsg")
	if err != nil {
		br.err = err
		return br
	}
	go br.read(f)
	return br
}

// read collects the records of kmsg (/dev/kmsg) until a read fails.
func (br *bootRecords) read(kmsg io.Reader) {
	defer func() {
		if r := recover(); r != nil {
			logf("boot log reader stopped: %v", r)
		}
	}()
	kr := bootlog.NewReader(kmsg, bootlog.BootTime())
	for {
		rec, gap, err := kr.Next()
		br.mu.Lock()
		if err != nil {
			br.err = err
			n := len(br.records)
			br.mu.Unlock()
			if n > 0 {
				logf("boot log: reading /dev/kmsg stopped after %d records: %v", n, err)
			}
			return
		}
		br.lost += gap
		if br.ship != nil {
			// Once shipping, a gap is reported where it happened: the
			// summary at attach covered only the earlier ones.
			if gap > 0 {
				br.ship.Log(lostEvent(gap, rec.Time))
			}
			br.ship.Log(kernelEvent(rec))
		} else if len(br.records) < maxBootRecords {
			br.records = append(br.records, rec)
		} else {
			br.dropped++
		}
		br.mu.Unlock()
	}
}

// summary reports what was collected so far.
func (br *bootRecords) summary() {
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.err != nil && len(br.records) == 0 {
		if br.err == errNotOwnKernel {
			logf("boot log: %v", br.err)
			return
		}
		logf("boot log: cannot read /dev/kmsg: %v", br.err)
		return
	}
	first := ""
	if len(br.records) > 0 {
		// Enough to recognise it: the serial console is slow.
		first = br.records[0].Message
		if len(first) > 48 {
			first = first[:48] + "..."
		}
	}
	logf("boot log: %d kernel records (%d lost, %d over the bound), first: %q", len(br.records), br.lost, br.dropped, first)
}
