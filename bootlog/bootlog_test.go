package bootlog

import (
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	boot := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in      string
		seq     uint64
		level   string
		mono    time.Duration
		message string
		bad     bool
	}{
		{"5,0,0,-;Linux version 6.1.0-48-amd64 (debian-kernel@lists.debian.org)", 0, "INFO", 0, "Linux version 6.1.0-48-amd64 (debian-kernel@lists.debian.org)", false},
		{"3,1042,2514302,-;virtio_net: probe failed\n SUBSYSTEM=virtio\n DEVICE=+virtio:virtio0", 1042, "ERROR", 2514302 * time.Microsecond, "virtio_net: probe failed", false},
		{"4,7,100,c;tab\\x09and\\x5cslash", 7, "WARN", 100 * time.Microsecond, "tab\tand\\slash", false},
		{"30,8,1,-;systemd-ish facility 3 level 6", 8, "INFO", time.Microsecond, "systemd-ish facility 3 level 6", false},
		{"7,9,1;debug", 9, "DEBUG", time.Microsecond, "debug", false},
		{"no separator", 0, "", 0, "", true},
		{"x,1,2,-;bad prio", 0, "", 0, "", true},
		{"1,2;too few", 0, "", 0, "", true},
	}
	for _, tc := range cases {
		r, err := Parse([]byte(tc.in), boot)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: no error", tc.in)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if r.Seq != tc.seq || r.Level() != tc.level || r.Mono != tc.mono || r.Message != tc.message || !r.Time.Equal(boot.Add(tc.mono)) {
			t.Errorf("%q: got %+v (level %s)", tc.in, r, r.Level())
		}
	}
}

// records returns one record per Read, with an EPIPE where the ring
// buffer wrapped, as /dev/kmsg does.
type records struct{ items []any }

func (r *records) Read(p []byte) (int, error) {
	if len(r.items) == 0 {
		return 0, io.EOF
	}
	it := r.items[0]
	r.items = r.items[1:]
	if err, ok := it.(error); ok {
		return 0, err
	}
	return copy(p, it.(string)), nil
}

func TestReaderReportsGaps(t *testing.T) {
	kr := NewReader(&records{items: []any{"6,0,1,-;a", "6,1,2,-;b", syscall.EPIPE, "6,5,9,-;f", "6,6,10,-;g"}}, time.Unix(0, 0))
	msgs, gaps := readAll(t, kr)
	if len(msgs) != 4 || gaps[2] != 3 || kr.Lost != 3 {
		t.Fatalf("msgs %v gaps %v lost %d", msgs, gaps, kr.Lost)
	}
}

// TestReaderSkipsMalformed: a record that does not parse is counted and
// skipped; the records after it still come.
func TestReaderSkipsMalformed(t *testing.T) {
	kr := NewReader(&records{items: []any{"6,0,1,-;a", "no header at all", "6,x,2,-;bad seq", "6,1,3,-;b"}}, time.Unix(0, 0))
	msgs, _ := readAll(t, kr)
	if strings.Join(msgs, ",") != "a,b" || kr.Malformed != 2 || kr.Lost != 0 {
		t.Fatalf("msgs %v malformed %d lost %d; want a,b, 2 and 0", msgs, kr.Malformed, kr.Lost)
	}
}

// readAll reads kr to its end: each record's message and gap.
func readAll(t *testing.T, kr *Reader) (msgs []string, gaps []uint64) {
	t.Helper()
	for {
		rec, gap, err := kr.Next()
		if errors.Is(err, io.EOF) {
			return msgs, gaps
		}
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, rec.Message)
		gaps = append(gaps, gap)
	}
}

// TestReadsRealKmsg reads this machine's /dev/kmsg when allowed (root):
// the first record carries sequence 0 or reports what was lost.
func TestReadsRealKmsg(t *testing.T) {
	f, err := os.Open("/dev/kmsg")
	if err != nil {
		t.Skipf("cannot open /dev/kmsg: %v", err)
	}
	defer f.Close()
	kr := NewReader(f, BootTime())
	rec, _, err := kr.Next()
	if err != nil {
		t.Skipf("read /dev/kmsg: %v", err)
	}
	if rec.Message == "" || rec.Time.After(time.Now()) {
		t.Fatalf("first record: %+v", rec)
	}
}

// TestReaderReportsLossBeforeFirst: /dev/kmsg numbers records from 0 at
// boot and a fresh open starts at the oldest record kept; a first record
// with a higher sequence means the ring buffer wrapped before the reader
// opened it, and those records (the kernel's first lines) are lost too.
func TestReaderReportsLossBeforeFirst(t *testing.T) {
	kr := NewReader(&records{items: []any{"6,7,1,-;h", "6,8,2,-;i"}}, time.Unix(0, 0))
	msgs, gaps := readAll(t, kr)
	if len(msgs) != 2 || gaps[0] != 7 || gaps[1] != 0 || kr.Lost != 7 {
		t.Fatalf("msgs %v gaps %v lost %d; want the 7 records before the first reported", msgs, gaps, kr.Lost)
	}
}
