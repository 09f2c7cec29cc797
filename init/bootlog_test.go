package main

import (
	"io"
	"strings"
	"testing"

	"github.com/keelvm/keel/shipper"
)

// kmsgRecords returns one /dev/kmsg record per Read.
type kmsgRecords []string

func (r *kmsgRecords) Read(p []byte) (int, error) {
	if len(*r) == 0 {
		return 0, io.EOF
	}
	n := copy(p, (*r)[0])
	*r = (*r)[1:]
	return n, nil
}

type eventList []shipper.Event

func (l *eventList) Log(ev shipper.Event) { *l = append(*l, ev) }

// TestBootLogReportsLaterGaps: records the kernel overwrites after the
// shipper is attached (a flood outrunning the reader) are reported in the
// shipped stream, where they were lost, as the ones before it are.
func TestBootLogReportsLaterGaps(t *testing.T) {
	cases := []struct {
		name    string
		records kmsgRecords
		want    []string // messages shipped, in order
	}{
		{"no gap", kmsgRecords{"6,0,1,-;a", "6,1,2,-;b"}, []string{"a", "b"}},
		{"gap after attach", kmsgRecords{"6,0,1,-;a", "6,4,2,-;e", "6,5,3,-;f"},
			[]string{"a", "keel: 3 kernel log records were overwritten before they could be read", "e", "f"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got eventList
			br := &bootRecords{}
			br.attach(&got)
			br.read(&tc.records)
			var msgs []string
			for _, ev := range got {
				msgs = append(msgs, ev.Message)
			}
			if strings.Join(msgs, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("shipped %q, want %q", msgs, tc.want)
			}
		})
	}
}
