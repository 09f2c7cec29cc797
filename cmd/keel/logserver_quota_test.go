package main

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestLogserverQuotaFlags: the quota flags of 'keel logserver' become the
// server's Quotas, are repeated for a -daemon child, and refuse what would
// silently do nothing.
func TestLogserverQuotaFlags(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		off      bool
		rates    map[string]float64
		sessions int
		err      string
	}{
		{args: nil, sessions: 15, rates: map[string]float64{}},
		{args: []string{"-quotas", "off"}, off: true, sessions: 15, rates: map[string]float64{}},
		{args: []string{"-quota", "PutLogEvents=500", "-quota", "CreateLogStream=0", "-livetail.sessions", "3"}, sessions: 3,
			rates: map[string]float64{"PutLogEvents": 500, "CreateLogStream": 0}},
		{args: []string{"-quotas", "maybe"}, err: `use on (the service's quotas) or off`},
		{args: []string{"-quota", "PutLogEvent=5"}, err: `"PutLogEvent" is not a CloudWatch Logs operation`},
		{args: []string{"-livetail.sessions", "0"}, err: "allow at least 1"},
	} {
		fs := flag.NewFlagSet("logserver", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		q := quotaFlags(fs)
		err := fs.Parse(tc.args)
		if err == nil {
			quotas, qerr := q.quotas()
			err = qerr
			if err == nil {
				if quotas.Off != tc.off || len(quotas.Rates) != len(tc.rates) || *q.sessions != tc.sessions {
					t.Errorf("%v: %+v sessions %d", tc.args, quotas, *q.sessions)
				}
				for op, r := range tc.rates {
					if quotas.Rates[op] != r {
						t.Errorf("%v: %s = %v, want %v", tc.args, op, quotas.Rates[op], r)
					}
				}
				// A -daemon child gets the same settings.
				again := flag.NewFlagSet("logserver", flag.ContinueOnError)
				q2 := quotaFlags(again)
				if err := again.Parse(q.args()); err != nil || !slices.Equal(q2.args(), q.args()) {
					t.Errorf("%v: the daemon's flags %v do not parse back: %v", tc.args, q.args(), err)
				}
			}
		}
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.err)
		}
	}
}
