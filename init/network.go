package main

import (
	"fmt"
	"net"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/keelvm/keel/internal/bootcfg"
)

// linkWait bounds the wait for the NIC: drivers loaded moments ago may
// still be probing, and a NIC that never appears must not hold the boot.
const linkWait = 5 * time.Second

// network brings up loopback and the first NIC by the configured mode
// (dhcp, static or none; see bootcfg.ParseNet). With DHCP the lease is
// renewed in the background from then on.
func network(mode string) error {
	n, err := bootcfg.ParseNet(mode)
	if err != nil {
		return fmt.Errorf("network mode %q: %w", mode, err)
	}
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	if n.Mode == "none" {
		return nil
	}
	link, err := waitForNIC(linkWait)
	if err != nil {
		return err
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("set %s up: %w", link.Attrs().Name, err)
	}
	if n.Mode == "static" {
		return applyStatic(link, n)
	}
	return startDHCP(link)
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
		time.Sleep(5 * time.Millisecond)
	}
}
