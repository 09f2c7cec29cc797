package main

import (
	"net"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/keelvm/keel/internal/testutil"
)

// TestDHCPLeaseRenewal: init's DHCP client against a real DHCP server over
// a veth pair, with 4-second leases: the address, MTU (option 26), default
// route and DNS are applied; the lease is renewed at T1 in the background;
// a NAK to a renewal starts over at once, and the new lease's other
// address replaces the old one. (Under
// QEMU, slirp's leases last 24 hours.) It runs in new network, UTS and
// mount namespaces (unshare(1), as root), with a tmpfs on /etc, so that
// what it changes is its own.
func TestDHCPLeaseRenewal(t *testing.T) {
	if !inNamespaces(t) {
		return
	}
	serverIP := net.IPv4(10, 9, 0, 1).To4()
	client, server := vethPair(t, serverIP)

	var mu sync.Mutex
	offer := net.IPv4(10, 9, 0, 50).To4()
	var renewals []net.IP // ciaddr of each renewal
	var nakAt time.Time
	serveDHCP(t, server, func(m *dhcpv4.DHCPv4, typ dhcpv4.MessageType) (dhcpv4.MessageType, []dhcpv4.Modifier) {
		mu.Lock()
		defer mu.Unlock()
		if typ == dhcpv4.MessageTypeAck && !m.ClientIPAddr.IsUnspecified() {
			renewals = append(renewals, m.ClientIPAddr)
			if len(renewals) == 1 {
				// The server refuses the first renewal and will
				// offer another address.
				typ, nakAt = dhcpv4.MessageTypeNak, time.Now()
				offer = net.IPv4(10, 9, 0, 51).To4()
			}
		}
		return typ, []dhcpv4.Modifier{dhcpv4.WithServerIP(serverIP),
			dhcpv4.WithYourIP(offer), dhcpv4.WithNetmask(net.CIDRMask(24, 32)), dhcpv4.WithLeaseTime(4),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(serverIP)), dhcpv4.WithOption(dhcpv4.OptRouter(serverIP)),
			dhcpv4.WithOption(dhcpv4.OptDNS(serverIP)), dhcpv4.WithGeneric(dhcpv4.OptionInterfaceMTU, []byte{0x05, 0x78})}
	})

	if err := startDHCP(client, nil); err != nil {
		t.Fatalf("startDHCP: %v", err)
	}
	if got := addrs(t, client); !slices.Equal(got, []string{"10.9.0.50/24"}) {
		t.Fatalf("addresses after the first lease: %v", got)
	}
	if list, _ := netlink.AddrList(client, netlink.FAMILY_V4); len(list) != 1 || list[0].ValidLft <= 0 || list[0].ValidLft > 4 {
		t.Errorf("address lifetimes %+v: want the lease's 4 s, so that the kernel drops an unrenewed address", list)
	}
	if l, _ := netlink.LinkByIndex(client.Attrs().Index); l.Attrs().MTU != 1400 {
		t.Errorf("MTU %d, want option 26's 1400", l.Attrs().MTU)
	}
	routes, _ := netlink.RouteList(client, netlink.FAMILY_V4)
	isDefault := func(r netlink.Route) bool {
		ones, _ := r.Dst.Mask.Size()
		return r.Dst == nil || r.Dst.IP.IsUnspecified() && ones == 0
	}
	if !slices.ContainsFunc(routes, func(r netlink.Route) bool { return isDefault(r) && r.Gw.Equal(serverIP) }) {
		t.Errorf("no default route via %v: %v", serverIP, routes)
	}
	if b, _ := os.ReadFile("/etc/resolv.conf"); string(b) != "nameserver 10.9.0.1\n" {
		t.Errorf("resolv.conf: %q", b)
	}
	// T1 is 2 s: keepLease renews then; the NAK sends it back to DISCOVER
	// at once (not at the lease's expiry), for .51, which replaces .50;
	// .51's lease is renewed in turn.
	deadline := time.Now().Add(15 * time.Second)
	var movedAfter time.Duration
	for {
		mu.Lock()
		n, nak := len(renewals), nakAt
		var last net.IP
		if n > 0 {
			last = renewals[n-1]
		}
		mu.Unlock()
		got := addrs(t, client)
		if movedAfter == 0 && !nak.IsZero() && slices.Equal(got, []string{"10.9.0.51/24"}) {
			movedAfter = time.Since(nak)
		}
		if movedAfter > 0 && last.Equal(net.IPv4(10, 9, 0, 51)) && slices.Equal(got, []string{"10.9.0.51/24"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d renewals (the last from %v) the addresses are %v, want the new lease's 10.9.0.51/24 only, renewed", n, last, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	first := renewals[0]
	mu.Unlock()
	if !first.Equal(net.IPv4(10, 9, 0, 50)) {
		t.Errorf("the renewal came from %v, want the leased 10.9.0.50", first)
	}
	if movedAfter > time.Second {
		t.Errorf("the new lease came %v after the NAK: the client waited instead of starting over", movedAfter)
	}
}

// vethPair makes the client (kc0, up, no address) and server (ks0, with
// serverIP/24) ends of a veth pair.
func vethPair(t *testing.T, serverIP net.IP) (client, server netlink.Link) {
	t.Helper()
	la := netlink.NewLinkAttrs()
	la.Name = "kc0"
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: "ks0"}); err != nil {
		t.Fatalf("add veth pair: %v", err)
	}
	for _, name := range []string{"lo", "kc0", "ks0"} {
		l, err := netlink.LinkByName(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := netlink.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
		switch name {
		case "kc0":
			client = l
		case "ks0":
			server = l
			if err := netlink.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: serverIP, Mask: net.CIDRMask(24, 32)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return client, server
}

// serveDHCP runs a DHCP server on link until the test ends: answer gives
// the reply's type and options for a message, from the type a plain server
// sends (OFFER to a DISCOVER, ACK to a REQUEST); other messages get none.
func serveDHCP(t *testing.T, link netlink.Link, answer func(m *dhcpv4.DHCPv4, typ dhcpv4.MessageType) (dhcpv4.MessageType, []dhcpv4.Modifier)) {
	t.Helper()
	srv, err := server4.NewServer(link.Attrs().Name, &net.UDPAddr{IP: net.IPv4zero, Port: dhcpv4.ServerPort},
		func(conn net.PacketConn, _ net.Addr, m *dhcpv4.DHCPv4) {
			var typ dhcpv4.MessageType
			switch m.MessageType() {
			case dhcpv4.MessageTypeDiscover:
				typ = dhcpv4.MessageTypeOffer
			case dhcpv4.MessageTypeRequest:
				typ = dhcpv4.MessageTypeAck
			default:
				return
			}
			typ, mods := answer(m, typ)
			resp, err := dhcpv4.NewReplyFromRequest(m, append([]dhcpv4.Modifier{dhcpv4.WithMessageType(typ)}, mods...)...)
			if err != nil {
				t.Errorf("DHCP reply: %v", err)
				return
			}
			conn.WriteTo(resp.ToBytes(), &net.UDPAddr{IP: net.IPv4bcast, Port: dhcpv4.ClientPort})
		})
	if err != nil {
		t.Fatalf("DHCP server: %v", err)
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Close() })
}

// inNamespaces runs the calling test again in new network, UTS and mount
// namespaces (as root, with unshare) and reports false: the caller
// returns. In there, it mounts a tmpfs on /etc and reports true: the test
// goes on, free to change the network, the hostname and /etc.
func inNamespaces(t *testing.T) bool {
	t.Helper()
	if os.Getenv("KEEL_TEST_NAMESPACES") == "1" {
		if err := unix.Mount("tmpfs", "/etc", "tmpfs", 0, "mode=0755"); err != nil {
			t.Fatalf("mount a tmpfs on /etc: %v", err)
		}
		return true
	}
	if os.Geteuid() != 0 {
		testutil.Unavailable(t, "needs root, for network namespaces")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		testutil.Unavailable(t, "unshare (util-linux) not found: %v", err)
	}
	cmd := exec.Command("unshare", "--net", "--uts", "--mount", "--propagation", "private",
		os.Args[0], "-test.run", "^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "KEEL_TEST_NAMESPACES=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in new namespaces: %v\n%s", err, out)
	}
	t.Logf("in new namespaces:\n%s", out)
	return false
}

// addrs lists a link's IPv4 addresses as CIDR strings.
func addrs(t *testing.T, l netlink.Link) []string {
	t.Helper()
	list, err := netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range list {
		out = append(out, a.IPNet.String())
	}
	return out
}
