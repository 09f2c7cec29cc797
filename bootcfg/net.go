package bootcfg

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Network is a parsed network mode.
type Network struct {
	Mode    string       // "dhcp", "none" or "static"
	Addr    netip.Prefix // static: the address and its prefix length
	Gateway netip.Addr   // static: the default route, if any
	DNS     []netip.Addr // static: the name servers, if any
}

// ParseNet parses a network mode: "dhcp", "none", or
// "static:ADDR/PREFIX[,GATEWAY[,DNS...]]", e.g.
// static:10.0.2.15/24,10.0.2.2,1.1.1.1 (commas, because the kernel command
// line splits on spaces; an empty gateway, as in static:10.0.0.5/24,,10.0.0.1,
// sets no default route).
func ParseNet(v string) (Network, error) {
	switch v {
	case "dhcp", "none":
		return Network{Mode: v}, nil
	}
	spec, ok := strings.CutPrefix(v, "static:")
	if !ok {
		return Network{}, errors.New("use dhcp, none or static:ADDR/PREFIX[,GATEWAY[,DNS...]]")
	}
	parts := strings.Split(spec, ",")
	n := Network{Mode: "static"}
	var err error
	if n.Addr, err = netip.ParsePrefix(parts[0]); err != nil {
		return Network{}, fmt.Errorf("static address %q: want ADDR/PREFIX such as 10.0.2.15/24", parts[0])
	}
	if len(parts) > 1 && parts[1] != "" {
		if n.Gateway, err = netip.ParseAddr(parts[1]); err != nil {
			return Network{}, fmt.Errorf("gateway %q: not an IP address", parts[1])
		}
		if n.Gateway.Is4() != n.Addr.Addr().Is4() {
			return Network{}, fmt.Errorf("gateway %v and address %v are of different families", n.Gateway, n.Addr)
		}
	}
	for _, s := range parts[min(2, len(parts)):] {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return Network{}, fmt.Errorf("DNS server %q: not an IP address", s)
		}
		n.DNS = append(n.DNS, ip)
	}
	return n, nil
}
