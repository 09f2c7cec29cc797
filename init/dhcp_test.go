package main

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/vishvananda/netlink"
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

// TestKeepLeaseAfterNak: a NAK to a renewal ends the lease (RFC 2131
// 4.4.5). When the DISCOVER that follows gets no lease, the next try
// comes minRetry later, not halfway to the dead lease's T2 (hours, for a
// day-long lease, with the refused address still on the link).
func TestKeepLeaseAfterNak(t *testing.T) {
	defer func(e func(*net.Interface, *nclient4.Lease, <-chan struct{}) (*nclient4.Lease, error),
		a func(netlink.Link, *dhcpv4.DHCPv4, *dhcpv4.DHCPv4) error, s func(time.Time)) {
		leaseExchange, leaseApply, sleepUntil = e, a, s
	}(leaseExchange, leaseApply, sleepUntil)
	ack, err := dhcpv4.New(dhcpv4.WithYourIP(net.IPv4(10, 9, 0, 50)), dhcpv4.WithLeaseTime(24*3600))
	if err != nil {
		t.Fatal(err)
	}
	// A day-long lease got 12 hours ago: T1 is now.
	lease := &nclient4.Lease{ACK: ack, CreationTime: time.Now().Add(-12 * time.Hour)}
	var calls []string
	leaseExchange = func(_ *net.Interface, old *nclient4.Lease, _ <-chan struct{}) (*nclient4.Lease, error) {
		if old != nil {
			calls = append(calls, "renew")
			return nil, fmt.Errorf("DHCP renewal: %w", &nclient4.ErrNak{Nak: ack})
		}
		calls = append(calls, "discover")
		return nil, errors.New("DHCP: no lease: no answer")
	}
	leaseApply = func(netlink.Link, *dhcpv4.DHCPv4, *dhcpv4.DHCPv4) error {
		t.Error("a lease was applied")
		return nil
	}
	var waits []time.Duration
	sleepUntil = func(at time.Time) {
		waits = append(waits, time.Until(at))
		if len(waits) == 3 {
			panic("enough") // keepLease recovers and returns
		}
	}
	keepLease(&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: "kt0"}}, lease)
	if !slices.Equal(calls, []string{"renew", "discover"}) {
		t.Fatalf("exchanges %v, want a renewal (NAKed) then a DISCOVER", calls)
	}
	if w := waits[2]; w > minRetry+time.Second {
		t.Errorf("after the NAK and a failed DISCOVER, the next try is in %v, want about %v", w.Round(time.Second), minRetry)
	}
}
