package main

import (
	"net"
	"slices"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/vishvananda/netlink"
)

// TestDHCPRequestsMTUAndRoutes: servers such as dnsmasq (libvirt's) and
// Kea send an option only when the client's parameter request list (option
// 55) asks for it. The MTU (option 26) and classless routes (option 121)
// that applyLease applies must be asked for, at the first exchange and at
// renewals alike. Runs in new namespaces, as TestDHCPLeaseRenewal.
func TestDHCPRequestsMTUAndRoutes(t *testing.T) {
	if !inNamespaces(t) {
		return
	}
	serverIP := net.IPv4(10, 9, 0, 1).To4()
	client, server := vethPair(t, serverIP)
	_, extra, _ := net.ParseCIDR("10.77.0.0/16")
	serveDHCP(t, server, func(m *dhcpv4.DHCPv4, typ dhcpv4.MessageType) (dhcpv4.MessageType, []dhcpv4.Modifier) {
		mods := []dhcpv4.Modifier{dhcpv4.WithServerIP(serverIP),
			dhcpv4.WithYourIP(net.IPv4(10, 9, 0, 50)), dhcpv4.WithNetmask(net.CIDRMask(24, 32)), dhcpv4.WithLeaseTime(3600),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(serverIP)), dhcpv4.WithOption(dhcpv4.OptRouter(serverIP))}
		// As dnsmasq does: only what the client asked for.
		prl := m.ParameterRequestList()
		if prl.Has(dhcpv4.OptionInterfaceMTU) {
			mods = append(mods, dhcpv4.WithGeneric(dhcpv4.OptionInterfaceMTU, []byte{0x05, 0x78}))
		}
		if prl.Has(dhcpv4.OptionClasslessStaticRoute) {
			mods = append(mods, dhcpv4.WithOption(dhcpv4.OptClasslessStaticRoute(
				&dhcpv4.Route{Dest: &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}, Router: serverIP},
				&dhcpv4.Route{Dest: extra, Router: serverIP})))
		}
		return typ, mods
	})

	check := func(when string) {
		t.Helper()
		if l, _ := netlink.LinkByIndex(client.Attrs().Index); l.Attrs().MTU != 1400 {
			t.Errorf("%s: MTU %d, want option 26's 1400 (was it requested?)", when, l.Attrs().MTU)
		}
		routes, _ := netlink.RouteList(client, netlink.FAMILY_V4)
		if !slices.ContainsFunc(routes, func(r netlink.Route) bool { return r.Dst != nil && r.Dst.String() == extra.String() }) {
			t.Errorf("%s: no route to %v from option 121 (was it requested?): %v", when, extra, routes)
		}
	}
	lease, err := dhcpRequest(ifaceOf(client), nil, nil)
	if err != nil {
		t.Fatalf("first lease: %v", err)
	}
	if err := applyLease(client, nil, lease.ACK); err != nil {
		t.Fatalf("apply: %v", err)
	}
	check("first lease")

	// A renewal's answer must carry them too: remove the route, renew,
	// apply (the MTU is set again only when it changes: the ACK must
	// hold it).
	netlink.RouteDel(&netlink.Route{LinkIndex: client.Attrs().Index, Dst: extra, Gw: serverIP})
	client, _ = netlink.LinkByIndex(client.Attrs().Index)
	fresh, err := dhcpRequest(ifaceOf(client), lease, nil)
	if err != nil {
		t.Fatalf("renewal: %v", err)
	}
	if err := applyLease(client, lease.ACK, fresh.ACK); err != nil {
		t.Fatalf("apply the renewal: %v", err)
	}
	check("renewal")
	if m, ok := leaseMTU(fresh.ACK); !ok || m != 1400 {
		t.Errorf("renewal's ACK: MTU %d (%v), want option 26's 1400 (was it requested?)", m, ok)
	}
}

// TestDHCPRebindToAnotherServer: after T2 the client rebinds (RFC 2131
// 4.4.5): the leasing server may be gone, and another one (a failover
// peer, with its own server identifier) answers the broadcast REQUEST.
// Its ACK must be taken, not ignored until the lease expires and the
// address drops. Runs in new namespaces, as TestDHCPLeaseRenewal.
func TestDHCPRebindToAnotherServer(t *testing.T) {
	if !inNamespaces(t) {
		return
	}
	serverIP := net.IPv4(10, 9, 0, 1).To4()
	peerIP := net.IPv4(10, 9, 0, 2).To4() // the failover peer that answers renewals
	client, server := vethPair(t, serverIP)
	serveDHCP(t, server, func(m *dhcpv4.DHCPv4, typ dhcpv4.MessageType) (dhcpv4.MessageType, []dhcpv4.Modifier) {
		id := serverIP
		if !m.ClientIPAddr.IsUnspecified() {
			id = peerIP
		}
		return typ, []dhcpv4.Modifier{dhcpv4.WithServerIP(id),
			dhcpv4.WithYourIP(net.IPv4(10, 9, 0, 50)), dhcpv4.WithNetmask(net.CIDRMask(24, 32)), dhcpv4.WithLeaseTime(3600),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(id)), dhcpv4.WithOption(dhcpv4.OptRouter(serverIP))}
	})

	lease, err := dhcpRequest(ifaceOf(client), nil, nil)
	if err != nil {
		t.Fatalf("first lease: %v", err)
	}
	lease.CreationTime = time.Now().Add(-55 * time.Minute) // past T2 (52.5 min of 60)
	t0 := time.Now()
	fresh, err := dhcpRequest(ifaceOf(client), lease, nil)
	if err != nil {
		t.Fatalf("rebinding (after %v): %v", time.Since(t0).Round(time.Millisecond), err)
	}
	if id := fresh.ACK.ServerIdentifier(); !id.Equal(peerIP) {
		t.Errorf("rebound by %v, want the peer %v", id, peerIP)
	}
	// Later renewals go to the server that rebound the lease.
	fresh.CreationTime = time.Now().Add(-31 * time.Minute) // renewing, before T2
	if _, err := dhcpRequest(ifaceOf(client), fresh, nil); err != nil {
		t.Fatalf("renewal after the rebinding: %v", err)
	}
}
