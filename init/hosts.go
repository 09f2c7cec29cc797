package main

import (
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// defaultHostname replaces the kernel's "(none)": programs that put the
// hostname in their logs or resolve it expect a real one.
const defaultHostname = "keel"

// setDefaultHostname names the machine unless the kernel (hostname= on its
// command line) or the image already did.
func setDefaultHostname() {
	if h, err := os.Hostname(); err == nil && h != "" && h != "(none)" {
		return
	}
	if err := unix.Sethostname([]byte(defaultHostname)); err != nil {
		logf("set hostname %s: %v", defaultHostname, err)
	}
}

// seedHosts writes /etc/hosts so that localhost and the machine's own name
// resolve without DNS; ip is the machine's address, or nil.
func seedHosts(ip net.IP) {
	h, _ := os.Hostname()
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	if h != "" && h != "localhost" {
		if ip != nil {
			fmt.Fprintf(&b, "%s\t%s\n", ip, h)
		} else {
			fmt.Fprintf(&b, "127.0.1.1\t%s\n", h)
		}
	}
	if err := replaceFile("/etc/hosts", b.String()); err != nil {
		logf("%v", err)
	}
}

// writeResolvConf writes the name servers, if any: an image's own
// /etc/resolv.conf stays when the network gives none.
func writeResolvConf(dns []net.IP) error {
	if len(dns) == 0 {
		return nil
	}
	var b strings.Builder
	for _, ip := range dns {
		fmt.Fprintf(&b, "nameserver %s\n", ip)
	}
	return replaceFile("/etc/resolv.conf", b.String())
}

// replaceFile writes a file atomically: a renewal rewrites resolv.conf
// while the app may be reading it.
func replaceFile(path, content string) error {
	os.MkdirAll("/etc", 0o755)
	tmp := path + ".keel-tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// hostname is the machine's name, for events when there is no better
// instance name.
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return defaultHostname
	}
	return h
}
