package main

import (
	"testing"
	"time"
)

// TestParseWhen: -since and -until read durations back from now, days
// included, and RFC 3339 times; anything else is refused, not read in part
// (1.5d is not one day).
func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"10m", now.Add(-10 * time.Minute)},
		{"2h", now.Add(-2 * time.Hour)},
		{"3d", now.AddDate(0, 0, -3)},
		{"0d", now},
		{"2026-11-23T19:00:00Z", now.Add(-time.Hour)},
	} {
		got, err := parseWhen(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"1.5d", "3xd", "d", "-2d", "2 d", "-10m", "yesterday"} {
		if got, err := parseWhen(in, now); err == nil {
			t.Errorf("parseWhen(%q) = %v, want an error", in, got)
		}
	}
}
