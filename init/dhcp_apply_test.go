package main

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/rfc1035label"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestApplyLeaseChanges: what a renewal's lease changes reaches the
// machine, and what it no longer gives goes: routes moved by option 121 or
// to another router, an MTU back to the link's first one; the image's own
// hosts entries and hostname stay; search domains reach resolv.conf. Runs
// in new namespaces, as TestDHCPLeaseRenewal.
func TestApplyLeaseChanges(t *testing.T) {
	if !inNamespaces(t) {
		return
	}
	server := net.IPv4(10, 9, 0, 1).To4()
	other := net.IPv4(10, 9, 0, 2).To4()
	link, _ := vethPair(t, server)
	bootMTU := link.Attrs().MTU
	cidr := func(s string) *net.IPNet { _, n, _ := net.ParseCIDR(s); return n }
	route := func(dst string, gw net.IP) *dhcpv4.Route { return &dhcpv4.Route{Dest: cidr(dst), Router: gw} }
	ack := func(mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
		m, err := dhcpv4.New(append([]dhcpv4.Modifier{dhcpv4.WithMessageType(dhcpv4.MessageTypeAck),
			dhcpv4.WithYourIP(net.IPv4(10, 9, 0, 50)), dhcpv4.WithNetmask(net.CIDRMask(24, 32)),
			dhcpv4.WithOption(dhcpv4.OptDNS(server))}, mods...)...)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	mtu := func(v int) dhcpv4.Modifier {
		return dhcpv4.WithGeneric(dhcpv4.OptionInterfaceMTU, []byte{byte(v >> 8), byte(v)})
	}
	cases := []struct {
		name       string
		old, new   *dhcpv4.DHCPv4
		wantRoutes []string // "dst via gw", sorted
		wantMTU    int
		wantResolv string
		err        string // what applying the new lease reports
	}{
		{"option 121 moves a route",
			ack(dhcpv4.WithOption(dhcpv4.OptClasslessStaticRoute(route("0.0.0.0/0", server), route("10.77.0.0/16", server)))),
			ack(dhcpv4.WithOption(dhcpv4.OptClasslessStaticRoute(route("0.0.0.0/0", server), route("10.88.0.0/16", server)))),
			[]string{"10.88.0.0/16 via 10.9.0.1", "default via 10.9.0.1"}, bootMTU, "nameserver 10.9.0.1\n", ""},
		{"another router",
			ack(dhcpv4.WithRouter(server)), ack(dhcpv4.WithRouter(other)),
			[]string{"default via 10.9.0.2"}, bootMTU, "nameserver 10.9.0.1\n", ""},
		{"option 121 gone: the router's default route",
			ack(dhcpv4.WithOption(dhcpv4.OptClasslessStaticRoute(route("10.77.0.0/16", server))), dhcpv4.WithRouter(server)),
			ack(dhcpv4.WithRouter(server)),
			[]string{"default via 10.9.0.1"}, bootMTU, "nameserver 10.9.0.1\n", ""},
		{"the MTU back to the link's first",
			ack(mtu(1400)), ack(mtu(bootMTU)), nil, bootMTU, "nameserver 10.9.0.1\n", ""},
		{"a new MTU", nil, ack(mtu(1280)), nil, 1280, "nameserver 10.9.0.1\n", ""},
		{"search domains (option 119)", nil,
			ack(dhcpv4.WithOption(dhcpv4.OptDomainSearch(&rfc1035label.Labels{Labels: []string{"a.example", "b.example"}}))),
			nil, bootMTU, "search a.example b.example\nnameserver 10.9.0.1\n", ""},
		{"domain name (option 15)", nil, ack(dhcpv4.WithOption(dhcpv4.OptDomainName("c.example"))),
			nil, bootMTU, "search c.example\nnameserver 10.9.0.1\n", ""},
		{"a router off the subnet: the rest still applies", nil,
			ack(dhcpv4.WithRouter(net.IPv4(192, 168, 99, 1)), dhcpv4.WithOption(dhcpv4.OptDomainName("d.example"))),
			nil, bootMTU, "search d.example\nnameserver 10.9.0.1\n", "add route default via 192.168.99.1"},
		// Some servers (Windows') end option 15 with a NUL, as HostName
		// trims from option 12: not a byte for resolv.conf.
		{"domain name ending in NUL (option 15)", nil, ack(dhcpv4.WithOption(dhcpv4.OptDomainName("c.example\x00"))),
			nil, bootMTU, "search c.example\nnameserver 10.9.0.1\n", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Each case from the link as boot left it.
			netlink.LinkSetMTU(link, bootMTU)
			routes, _ := netlink.RouteList(link, netlink.FAMILY_V4)
			for _, r := range routes {
				if r.Gw != nil {
					netlink.RouteDel(&r)
				}
			}
			dir := t.TempDir()
			hostsPath, resolvPath = filepath.Join(dir, "hosts"), filepath.Join(dir, "resolv.conf")
			imageHosts = sync.OnceValue(func() string { return "" })
			if tc.old != nil {
				if err := applyLease(link, nil, tc.old); err != nil {
					t.Fatalf("apply the first lease: %v", err)
				}
			}
			err := applyLease(link, tc.old, tc.new)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("apply: %v, want an error saying %q", err, tc.err)
			}
			var got []string
			routes, _ = netlink.RouteList(link, netlink.FAMILY_V4)
			for _, r := range routes {
				if r.Gw != nil {
					got = append(got, routeDst(r)+" via "+r.Gw.String())
				}
			}
			slices.Sort(got)
			if strings.Join(got, ", ") != strings.Join(tc.wantRoutes, ", ") {
				t.Errorf("routes %q, want %q", got, tc.wantRoutes)
			}
			if l, _ := netlink.LinkByIndex(link.Attrs().Index); l.Attrs().MTU != tc.wantMTU {
				t.Errorf("MTU %d, want %d", l.Attrs().MTU, tc.wantMTU)
			}
			if b, _ := os.ReadFile(resolvPath); string(b) != tc.wantResolv {
				t.Errorf("resolv.conf %q, want %q", b, tc.wantResolv)
			}
		})
	}

	// The MTU a lease sets is compared with the link's, not with the last
	// lease's: a lease without option 26 in between leaves the link at
	// the earlier lease's MTU, which a later lease's must still replace.
	t.Run("an MTU after a lease without one", func(t *testing.T) {
		netlink.LinkSetMTU(link, bootMTU)
		dir := t.TempDir()
		hostsPath, resolvPath = filepath.Join(dir, "hosts"), filepath.Join(dir, "resolv.conf")
		imageHosts = sync.OnceValue(func() string { return "" })
		leases := []*dhcpv4.DHCPv4{ack(mtu(1400)), ack(), ack(mtu(bootMTU))}
		var old *dhcpv4.DHCPv4
		for _, l := range leases {
			if err := applyLease(link, old, l); err != nil {
				t.Fatal(err)
			}
			old = l
		}
		if l, _ := netlink.LinkByIndex(link.Attrs().Index); l.Attrs().MTU != bootMTU {
			t.Errorf("MTU %d, want the last lease's %d", l.Attrs().MTU, bootMTU)
		}
	})

	t.Run("addresses", func(t *testing.T) {
		steps := []struct {
			name string
			ack  *dhcpv4.DHCPv4
			want string
		}{
			{"first", ack(), "10.9.0.50/24"},
			{"a new mask on the same address", ack(dhcpv4.WithNetmask(net.CIDRMask(16, 32))), "10.9.0.50/16"},
			{"another address", ack(dhcpv4.WithYourIP(net.IPv4(10, 9, 0, 51)), dhcpv4.WithNetmask(net.CIDRMask(16, 32))), "10.9.0.51/16"},
		}
		var old *dhcpv4.DHCPv4
		for _, st := range steps {
			if err := applyLease(link, old, st.ack); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if got := strings.Join(addrs(t, link), " "); got != st.want {
				t.Errorf("%s: addresses %s, want %s alone", st.name, got, st.want)
			}
			old = st.ack
		}
	})

	t.Run("hosts and hostname", func(t *testing.T) {
		dir := t.TempDir()
		hostsPath, resolvPath = filepath.Join(dir, "hosts"), filepath.Join(dir, "resolv.conf")
		own := "127.0.0.1 localhost\n10.1.2.3 db # the image's\n"
		os.WriteFile(hostsPath, []byte(own), 0o644)
		imageHosts = sync.OnceValue(func() string { b, _ := os.ReadFile(hostsPath); return string(b) })
		named := func(h string) dhcpv4.Modifier { return dhcpv4.WithOption(dhcpv4.OptHostName(h)) }
		steps := []struct {
			hostnameBefore, leaseName, want string
		}{
			{defaultHostname, "web-1", "web-1"}, // keel's default gives way
			{"", "web-2", "web-2"},              // so does the last lease's
			{"mine", "web-3", "mine"},           // a name set otherwise stays
		}
		for _, st := range steps {
			if st.hostnameBefore != "" {
				unix.Sethostname([]byte(st.hostnameBefore))
			}
			if err := applyLease(link, nil, ack(named(st.leaseName))); err != nil {
				t.Fatal(err)
			}
			if h, _ := os.Hostname(); h != st.want {
				t.Errorf("lease name %q over %q: hostname %q, want %q", st.leaseName, st.hostnameBefore, h, st.want)
			}
			b, _ := os.ReadFile(hostsPath)
			want := own + "10.9.0.50\t" + st.want + "\n"
			if string(b) != want {
				t.Errorf("hosts:\n%s\nwant:\n%s", b, want)
			}
		}
	})
}
