package main

import (
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

func TestLeaseTimes(t *testing.T) {
	got := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ack := func(opts ...dhcpv4.Option) *dhcpv4.DHCPv4 {
		m, err := dhcpv4.New()
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range opts {
			m.UpdateOption(o)
		}
		return m
	}
	cases := []struct {
		name       string
		ack        *dhcpv4.DHCPv4
		t1, t2, ex time.Duration // from got; all zero: never renewed
	}{
		{"lease only", ack(dhcpv4.OptIPAddressLeaseTime(time.Hour)), 30 * time.Minute, 52*time.Minute + 30*time.Second, time.Hour},
		{"T1 and T2 given", ack(dhcpv4.OptIPAddressLeaseTime(time.Hour), dhcpv4.OptRenewTimeValue(10*time.Minute), dhcpv4.OptRebindingTimeValue(20*time.Minute)),
			10 * time.Minute, 20 * time.Minute, time.Hour},
		{"T1 beyond the lease", ack(dhcpv4.OptIPAddressLeaseTime(time.Hour), dhcpv4.OptRenewTimeValue(2*time.Hour)), 30 * time.Minute, 52*time.Minute + 30*time.Second, time.Hour},
		{"infinite", ack(dhcpv4.OptIPAddressLeaseTime(0xffffffff * time.Second)), 0, 0, 0},
		{"no lease time", ack(), 0, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lt := timesOf(tc.ack, got)
			at := func(d time.Duration) time.Time {
				if d == 0 {
					return time.Time{}
				}
				return got.Add(d)
			}
			if !lt.t1.Equal(at(tc.t1)) || !lt.t2.Equal(at(tc.t2)) || !lt.expiry.Equal(at(tc.ex)) {
				t.Fatalf("got T1 %v T2 %v expiry %v", lt.t1.Sub(got), lt.t2.Sub(got), lt.expiry.Sub(got))
			}
		})
	}
}

func TestLeaseNextTry(t *testing.T) {
	got := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lt := leaseTimes{t1: got.Add(30 * time.Minute), t2: got.Add(52 * time.Minute), expiry: got.Add(time.Hour)}
	cases := []struct {
		name      string
		now, want time.Duration // from got
	}{
		{"renewing: halfway to T2", 30 * time.Minute, 41 * time.Minute},
		{"renewing near T2: the minimum", 51*time.Minute + 55*time.Second, 52*time.Minute + 5*time.Second},
		{"rebinding: halfway to expiry", 52 * time.Minute, 56 * time.Minute},
		{"expired: the minimum", 61 * time.Minute, 61*time.Minute + minRetry},
	}
	for _, tc := range cases {
		if next := lt.nextTry(got.Add(tc.now)); !next.Equal(got.Add(tc.want)) {
			t.Errorf("%s: next try at %v, want %v", tc.name, next.Sub(got), tc.want)
		}
	}
}
