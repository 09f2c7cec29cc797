package main

import (
	"fmt"
	"net"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/keelvm/keel/bootcfg"
)

// linkWait bounds the wait for the NIC: drivers loaded moments ago may
// still be probing, and a NIC that never appears must not hold the boot.
const linkWait = 5 * time.Second

// network brings up loopback and the first NIC by the configured mode
// (dhcp, static or none; see bootcfg.ParseNet). With DHCP the lease is
// renewed in the background from then on; what can wait for the app's
// start (closing the DHCP client) waits for appStarted.
func network(mode string, appStarted <-chan struct{}) error {
	n, err := bootcfg.ParseNet(mode)
	if err != nil {
		return fmt.Errorf("network mode %q: %w", mode, err)
	}
	if err := loUp(); err != nil {
		return err
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
	return startDHCP(link, appStarted)
}

// loIndex is loopback's interface index: the first device every network
// namespace registers.
const loIndex = 1

// loUp sets loopback up by its index, without looking it up first: the
// lookup's parsing of every attribute cost a TCG guest 20 ms of boot.
func loUp() error {
	lo := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: loIndex, Name: "lo"}}
	if err := netlink.LinkSetUp(lo); err == nil {
		return nil
	}
	l, err := netlink.LinkByName("lo") // not index 1, after all
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
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
