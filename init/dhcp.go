package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Bounds of a DHCP exchange: a server that never answers must not hold the
// boot (nclient4's own retries double up to 35 s).
const (
	dhcpTimeout  = 2 * time.Second
	dhcpAttempts = 3
)

// dhcpWants adds what applyLease applies beyond nclient4's default
// parameter request list (mask, router, domain name, DNS): servers such as
// dnsmasq and Kea send an option only when the client asks for it.
var dhcpWants = dhcpv4.WithRequestedOptions(dhcpv4.OptionInterfaceMTU, dhcpv4.OptionClasslessStaticRoute,
	dhcpv4.OptionHostName, dhcpv4.OptionDNSDomainSearchList)

// dhcpRequest runs one full exchange (DISCOVER to ACK), or, with old, a
// renewal of that lease (REQUEST with ciaddr, broadcast, so that it also
// serves as a rebind once T2 passed: see renew). The client is closed afterwards: its
// AF_PACKET socket would otherwise copy every packet of the machine. With
// closeAfter, the close waits for that channel to close: at boot, closing
// (about 20 ms of a TCG guest's single CPU) would delay the app.
func dhcpRequest(ifc *net.Interface, old *nclient4.Lease, closeAfter <-chan struct{}) (*nclient4.Lease, error) {
	name := ifc.Name
	// The socket on the interface netlink already described: nclient4.New
	// would look it up by name twice (each a dump of every link and its
	// parsing, net.InterfaceByName), on the boot's critical path.
	raw, err := packet.Listen(ifc, packet.Datagram, unix.ETH_P_IP, nil)
	if err != nil {
		return nil, fmt.Errorf("open DHCP socket on %s: %w", name, err)
	}
	c, err := nclient4.NewWithConn(nclient4.NewBroadcastUDPConn(raw, &net.UDPAddr{Port: nclient4.ClientPort}), ifc.HardwareAddr,
		nclient4.WithTimeout(dhcpTimeout), nclient4.WithRetry(dhcpAttempts))
	if err != nil {
		raw.Close()
		return nil, fmt.Errorf("open DHCP client on %s: %w", name, err)
	}
	defer func() {
		// Only once the exchange is over: with keel.wait=none the app may
		// have started before it began.
		if closeAfter == nil {
			c.Close()
			return
		}
		go func() {
			defer func() { recover() }() // a failing close must not take PID 1 down
			<-closeAfter
			c.Close()
		}()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), dhcpTimeout*dhcpAttempts*2)
	defer cancel()
	if old != nil {
		l, err := renew(ctx, c, old)
		if err != nil {
			return nil, fmt.Errorf("DHCP renewal of %v on %s: %w", old.ACK.YourIPAddr, name, err)
		}
		return l, nil
	}
	l, err := c.Request(ctx, dhcpWants)
	if err != nil {
		return nil, fmt.Errorf("DHCP on %s: no lease: %w", name, err)
	}
	return l, nil
}

// renew asks to extend old: of the server that leased it while renewing;
// of any server once T2 passed (rebinding, RFC 2131 4.4.5: the leasing
// server may be gone, and its failover peer answers with its own
// identifier, which nclient4's Renew would ignore until the lease
// expired). The answering server is the one later renewals go to.
func renew(ctx context.Context, c *nclient4.Client, old *nclient4.Lease) (*nclient4.Lease, error) {
	if time.Now().Before(timesOf(old.ACK, old.CreationTime).t2) {
		return c.Renew(ctx, old, dhcpWants)
	}
	req, err := dhcpv4.NewRenewFromAck(old.ACK, dhcpv4.WithOption(dhcpv4.OptMaxMessageSize(nclient4.MaxMessageSize)), dhcpWants)
	if err != nil {
		return nil, err
	}
	resp, err := c.SendAndRead(ctx, nclient4.DefaultServers, req, nclient4.IsMessageType(dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak))
	if err != nil {
		return nil, fmt.Errorf("rebinding: %w", err)
	}
	if resp.MessageType() == dhcpv4.MessageTypeNak {
		return nil, &nclient4.ErrNak{Offer: old.Offer, Nak: resp}
	}
	// Offer is what nclient4's Renew takes the server identifier from.
	return &nclient4.Lease{Offer: resp, ACK: resp, CreationTime: time.Now()}, nil
}

// startDHCP gets a lease, applies it and keeps it renewed in the
// background. The DHCP client's socket is closed once appStarted closes.
func startDHCP(link netlink.Link, appStarted <-chan struct{}) error {
	name := link.Attrs().Name
	var lease *nclient4.Lease
	err := step("dhcp on "+name, func() (err error) {
		lease, err = dhcpRequest(ifaceOf(link), nil, appStarted)
		return err
	})
	if err != nil {
		return err
	}
	err = applyLease(link, nil, lease.ACK)
	// Renewed even when part of it failed: the address may be on the
	// link with the lease's lifetime, and a renewal applies it again.
	go keepLease(link, lease)
	return err
}

// ifaceOf is link as net.Interface, from the attributes netlink already
// read (no second lookup).
func ifaceOf(link netlink.Link) *net.Interface {
	a := link.Attrs()
	return &net.Interface{Index: a.Index, MTU: a.MTU, Name: a.Name, HardwareAddr: a.HardwareAddr, Flags: a.Flags}
}

// leaseTimes are the renewal (T1), rebinding (T2) and expiry times of a
// lease; all zero for an infinite one.
type leaseTimes struct{ t1, t2, expiry time.Time }

func timesOf(ack *dhcpv4.DHCPv4, got time.Time) leaseTimes {
	lt := ack.IPAddressLeaseTime(0)
	if lt <= 0 || lt >= 0xffffffff*time.Second {
		return leaseTimes{}
	}
	t1 := ack.IPAddressRenewalTime(lt / 2)
	t2 := ack.IPAddressRebindingTime(lt * 7 / 8)
	if t1 <= 0 || t1 > lt {
		t1 = lt / 2
	}
	if t2 < t1 || t2 > lt {
		t2 = max(t1, lt*7/8)
	}
	return leaseTimes{got.Add(t1), got.Add(t2), got.Add(lt)}
}

// minRetry spaces failed renewals (RFC 2131 says 60 s; shorter leases in
// tests and labs need less).
const minRetry = 10 * time.Second

// nextTry is when to try again after a failed attempt at now: halfway to
// T2 while renewing, halfway to expiry while rebinding (RFC 2131 4.4.5),
// never sooner than minRetry; after expiry, every minRetry.
func (lt leaseTimes) nextTry(now time.Time) time.Time {
	limit := lt.t2
	if !now.Before(lt.t2) {
		limit = lt.expiry
	}
	return now.Add(max(limit.Sub(now)/2, minRetry))
}

// What keepLease calls, replaced by tests.
var (
	leaseExchange = dhcpRequest
	leaseApply    = applyLease
	sleepUntil    = func(t time.Time) { time.Sleep(time.Until(t)) }
)

// keepLease renews the lease at T1 (and keeps trying, rebinding after T2)
// so that the address does not silently outlive it; once it expired, it
// asks for a new lease. A changed lease is applied again.
func keepLease(link netlink.Link, lease *nclient4.Lease) {
	defer func() {
		if r := recover(); r != nil {
			logf("DHCP lease keeper stopped: %v (the address is no longer renewed)", r)
		}
	}()
	name := link.Attrs().Name
	lt := timesOf(lease.ACK, lease.CreationTime)
	if lt.t1.IsZero() {
		return
	}
	next := lt.t1
	for {
		sleepUntil(next)
		old := lease
		if !time.Now().Before(lt.expiry) {
			old = nil // expired: start over with DISCOVER
			logf("DHCP lease of %v on %s expired: asking for a new one", lease.ACK.YourIPAddr, name)
		}
		fresh, err := leaseExchange(ifaceOf(link), old, nil)
		var nak *nclient4.ErrNak
		if old != nil && errors.As(err, &nak) {
			// RFC 2131 4.4.5: a NAK to a renewal ends the lease; start
			// over at once (the address stays until the new lease's
			// replaces it). The lease's T1 and T2 went with it: a failed
			// DISCOVER is retried minRetry later, not halfway to its T2.
			logf("%v: asking for a new lease", err)
			now := time.Now()
			lt, next = leaseTimes{now, now, now}, now
			continue
		}
		if err != nil {
			next = lt.nextTry(time.Now())
			logf("%v; next try in %v", err, time.Until(next).Round(time.Second))
			continue
		}
		if err := leaseApply(link, lease.ACK, fresh.ACK); err != nil {
			logf("apply renewed DHCP lease on %s: %v", name, err)
		}
		lease = fresh
		lt = timesOf(lease.ACK, lease.CreationTime)
		if lt.t1.IsZero() {
			return
		}
		next = lt.t1
	}
}

// applyLease configures what DHCP gave: address, MTU (option 26), routes
// (option 121 takes precedence over the router option, RFC 3442), DNS with
// search domains, and hostname. old is the lease it replaces, if any: its
// address goes when the new one differs, and so do its routes that the
// new one lacks.
func applyLease(link netlink.Link, old, ack *dhcpv4.DHCPv4) error {
	name := link.Attrs().Name
	addr := &netlink.Addr{IPNet: leaseAddr(ack)}
	// The kernel drops the address when the lease ends unrenewed (RFC
	// 2131: the client must stop using it); an infinite lease keeps it.
	if secs := ack.IPAddressLeaseTime(0) / time.Second; secs > 0 && secs < math.MaxUint32 {
		addr.ValidLft, addr.PreferedLft = int(secs), int(secs)
	}
	// The kernel keys an address by its prefix too: a new mask on the
	// same IP would add a second address, not replace the first.
	if oldAddr := leaseAddr(old); oldAddr != nil && oldAddr.String() != addr.IPNet.String() {
		if err := netlink.AddrDel(link, &netlink.Addr{IPNet: oldAddr}); err != nil {
			logf("remove old address %s from %s: %v", oldAddr, name, err)
		}
		logf("network: %s changed address from %s to %s", name, oldAddr, addr.IPNet)
	}
	if err := netlink.AddrReplace(link, addr); err != nil {
		return fmt.Errorf("add address %s to %s: %w", addr.IPNet, name, err)
	}
	// The link's MTU now: link's attributes are boot's, and the last
	// lease need not have set it (a lease without option 26 leaves the
	// MTU of the one before), so a renewal asks the kernel.
	cur := link.Attrs().MTU
	if old != nil {
		if l, err := netlink.LinkByIndex(link.Attrs().Index); err == nil {
			cur = l.Attrs().MTU
		}
	}
	if m, ok := leaseMTU(ack); ok && m != cur {
		if err := netlink.LinkSetMTU(link, m); err != nil {
			return fmt.Errorf("set MTU %d on %s: %w", m, name, err)
		}
	}
	// A route the kernel refuses (a router off the subnet) is reported
	// once the rest is applied: the address, DNS and names still serve.
	var routeErrs []error
	routes := leaseRoutes(link, ack)
	for _, rt := range routes {
		if err := netlink.RouteReplace(&rt); err != nil {
			routeErrs = append(routeErrs, fmt.Errorf("add route %v via %v on %s: %w", routeDst(rt), rt.Gw, name, err))
		}
	}
	if old != nil {
		// What the last lease routed and this one does not: a renewal
		// may move a route, or the default route to another router.
		for _, rt := range leaseRoutes(link, old) {
			if slices.ContainsFunc(routes, func(r netlink.Route) bool { return sameRoute(r, rt) }) {
				continue
			}
			if err := netlink.RouteDel(&rt); err != nil && !errors.Is(err, unix.ESRCH) {
				logf("remove route %v via %v from %s (no longer in the lease): %v", routeDst(rt), rt.Gw, name, err)
			}
		}
	}
	search := ack.DomainSearch()
	var domains []string
	if search != nil {
		domains = search.Labels
	} else if d := strings.TrimRight(ack.DomainName(), "\x00"); d != "" {
		domains = []string{d}
	}
	if err := writeResolvConf(ack.DNS(), domains); err != nil {
		return err
	}
	if h := ack.HostName(); h != "" {
		// A name the kernel command line or the image gave stays: only
		// keel's default, or the last lease's name, gives way.
		if cur, _ := os.Hostname(); cur == defaultHostname || cur == leaseHostname {
			if err := unix.Sethostname([]byte(h)); err != nil {
				logf("set hostname %q from DHCP: %v", h, err)
			} else {
				leaseHostname = h
			}
		}
	}
	seedHosts(ack.YourIPAddr)
	logf("network: %s %s, router %v, dns %v, lease %v", name, addr.IPNet, ack.Router(), ack.DNS(), ack.IPAddressLeaseTime(0))
	return errors.Join(routeErrs...)
}

// leaseHostname is the name the last lease gave the machine, if any.
var leaseHostname string

// leaseAddr is a lease's address with its subnet mask (the class's when
// the lease gives none), or nil for no lease.
func leaseAddr(ack *dhcpv4.DHCPv4) *net.IPNet {
	if ack == nil {
		return nil
	}
	mask := ack.SubnetMask()
	if mask == nil {
		mask = ack.YourIPAddr.DefaultMask()
	}
	return &net.IPNet{IP: ack.YourIPAddr, Mask: mask}
}

// leaseMTU is a lease's interface MTU (option 26), if it gives a valid one.
func leaseMTU(ack *dhcpv4.DHCPv4) (int, bool) {
	b := ack.GetOneOption(dhcpv4.OptionInterfaceMTU)
	if len(b) != 2 {
		return 0, false
	}
	m := int(b[0])<<8 | int(b[1])
	return m, m >= 68
}

// leaseRoutes are the routes a lease gives: its classless static routes
// (option 121) when it has them, which replace the router option (RFC
// 3442), else a default route via its first router.
func leaseRoutes(link netlink.Link, ack *dhcpv4.DHCPv4) []netlink.Route {
	idx := link.Attrs().Index
	var out []netlink.Route
	if routes := ack.ClasslessStaticRoute(); len(routes) > 0 {
		for _, r := range routes {
			rt := netlink.Route{LinkIndex: idx, Dst: r.Dest, Gw: r.Router}
			if r.Router.IsUnspecified() {
				rt.Gw, rt.Scope = nil, netlink.SCOPE_LINK // on-link route (RFC 3442 router 0.0.0.0)
			}
			if ones, _ := r.Dest.Mask.Size(); ones == 0 {
				rt.Dst = nil // the default route
			}
			out = append(out, rt)
		}
	} else if gws := ack.Router(); len(gws) > 0 {
		out = append(out, netlink.Route{LinkIndex: idx, Gw: gws[0]})
	}
	return out
}

// routeDst names a route's destination for messages.
func routeDst(rt netlink.Route) string {
	if rt.Dst == nil {
		return "default"
	}
	if ones, _ := rt.Dst.Mask.Size(); ones == 0 {
		return "default" // as the kernel lists it: 0.0.0.0/0
	}
	return rt.Dst.String()
}

func sameRoute(a, b netlink.Route) bool {
	return routeDst(a) == routeDst(b) && a.Gw.Equal(b.Gw)
}
