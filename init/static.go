package main

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"

	"github.com/keelvm/keel/bootcfg"
)

// applyStatic configures keel.net=static:ADDR/PREFIX,GW,DNS...: the
// address, the default route and the name servers.
func applyStatic(link netlink.Link, n bootcfg.Network) error {
	name := link.Attrs().Name
	ipnet := &net.IPNet{IP: n.Addr.Addr().AsSlice(), Mask: net.CIDRMask(n.Addr.Bits(), n.Addr.Addr().BitLen())}
	if err := netlink.AddrReplace(link, &netlink.Addr{IPNet: ipnet}); err != nil {
		return fmt.Errorf("add address %s to %s: %w", ipnet, name, err)
	}
	if n.Gateway.IsValid() {
		gw := net.IP(n.Gateway.AsSlice())
		if err := netlink.RouteReplace(&netlink.Route{LinkIndex: link.Attrs().Index, Gw: gw}); err != nil {
			return fmt.Errorf("add default route via %v on %s: %w", gw, name, err)
		}
	}
	var dns []net.IP
	for _, a := range n.DNS {
		dns = append(dns, a.AsSlice())
	}
	if err := writeResolvConf(dns, nil); err != nil {
		return err
	}
	seedHosts(ipnet.IP)
	logf("network: %s %s (static), gateway %v, dns %v", name, ipnet, n.Gateway, n.DNS)
	return nil
}
