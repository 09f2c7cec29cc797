package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Bounds of the network bring-up: a NIC that never appears or a DHCP server
// that never answers must not hold the boot forever (nclient4's own retries
// double up to 35 s).
const (
	linkWait     = 5 * time.Second
	dhcpTimeout  = 2 * time.Second
	dhcpAttempts = 3
)

// network brings up loopback and, with mode "dhcp", the first NIC by DHCP.
func network(mode string) error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	if mode == "none" {
		return nil
	}
	link, err := waitForNIC(linkWait)
	if err != nil {
		return err
	}
	name := link.Attrs().Name
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("set %s up: %w", name, err)
	}
	var lease *nclient4.Lease
	step(fmt.Sprintf("dhcp on %s", name), func() error {
		c, err := nclient4.New(name, nclient4.WithTimeout(dhcpTimeout), nclient4.WithRetry(dhcpAttempts))
		if err != nil {
			return fmt.Errorf("open DHCP client on %s: %w", name, err)
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), dhcpTimeout*dhcpAttempts*2)
		defer cancel()
		lease, err = c.Request(ctx)
		if err != nil {
			return fmt.Errorf("DHCP on %s: no lease: %w", name, err)
		}
		return nil
	})
	if lease == nil {
		return fmt.Errorf("DHCP on %s failed", name)
	}
	return applyLease(link, lease.ACK)
}

// waitForNIC returns the first non-loopback link; drivers loaded moments
// ago may still be probing.
func waitForNIC(d time.Duration) (netlink.Link, error) {
	deadline := time.Now().Add(d)
	for {
		links, err := netlink.LinkList()
		if err != nil {
			return nil, fmt.Errorf("list links: %w", err)
		}
		for _, l := range links {
			if l.Attrs().Flags&net.FlagLoopback == 0 && l.Type() == "device" {
				return l, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no network interface appeared within %v (is the NIC's driver among the image's modules?)", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// applyLease configures what DHCP gave: address, MTU (option 26), routes
// (option 121 takes precedence over the router option, RFC 3442), DNS and
// hostname. The lease is not renewed yet: TODO when the supervisor owns
// long-running services.
func applyLease(link netlink.Link, ack *dhcpv4.DHCPv4) error {
	name := link.Attrs().Name
	mask := ack.SubnetMask()
	if mask == nil {
		mask = ack.YourIPAddr.DefaultMask()
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: ack.YourIPAddr, Mask: mask}}
	if err := netlink.AddrReplace(link, addr); err != nil {
		return fmt.Errorf("add address %s to %s: %w", addr.IPNet, name, err)
	}
	if b := ack.GetOneOption(dhcpv4.OptionInterfaceMTU); len(b) == 2 {
		mtu := int(b[0])<<8 | int(b[1])
		if err := netlink.LinkSetMTU(link, mtu); err != nil {
			return fmt.Errorf("set MTU %d on %s: %w", mtu, name, err)
		}
	}
	routes := ack.ClasslessStaticRoute()
	if len(routes) > 0 {
		for _, r := range routes {
			rt := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: r.Dest, Gw: r.Router}
			if err := netlink.RouteReplace(rt); err != nil {
				return fmt.Errorf("add route %v via %v: %w", r.Dest, r.Router, err)
			}
		}
	} else if gws := ack.Router(); len(gws) > 0 {
		if err := netlink.RouteReplace(&netlink.Route{LinkIndex: link.Attrs().Index, Gw: gws[0]}); err != nil {
			return fmt.Errorf("add default route via %v: %w", gws[0], err)
		}
	}
	var resolv strings.Builder
	for _, ip := range ack.DNS() {
		fmt.Fprintf(&resolv, "nameserver %s\n", ip)
	}
	if resolv.Len() > 0 {
		os.MkdirAll("/etc", 0o755)
		if err := os.WriteFile("/etc/resolv.conf", []byte(resolv.String()), 0o644); err != nil {
			return fmt.Errorf("write /etc/resolv.conf: %w", err)
		}
	}
	if h := ack.HostName(); h != "" {
		unix.Sethostname([]byte(h))
	}
	logf("network: %s %s, router %v, dns %v, lease %v", name, addr.IPNet, ack.Router(), ack.DNS(), ack.IPAddressLeaseTime(0))
	return nil
}
