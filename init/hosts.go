package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

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

// hostsPath and resolvPath are replaced by tests.
var (
	hostsPath  = "/etc/hosts"
	resolvPath = "/etc/resolv.conf"
)

// imageHosts is the image's own /etc/hosts, read before keel first writes
// it: its entries stay.
var imageHosts = sync.OnceValue(func() string {
	b, err := os.ReadFile(hostsPath)
	if err != nil {
		return ""
	}
	return string(b)
})

// seedHosts writes /etc/hosts so that localhost and the machine's own name
// resolve without DNS; ip is the machine's address, or nil. The image's
// own entries come first and stay; a name they already map is not added.
func seedHosts(ip net.IP) {
	base := imageHosts()
	var b strings.Builder
	b.WriteString(base)
	if base != "" && !strings.HasSuffix(base, "\n") {
		b.WriteString("\n")
	}
	mapped := hostsNames(base)
	if !mapped["localhost"] {
		b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	}
	if h, _ := os.Hostname(); h != "" && !mapped[h] && h != "localhost" {
		if ip != nil {
			fmt.Fprintf(&b, "%s\t%s\n", ip, h)
		} else {
			fmt.Fprintf(&b, "127.0.1.1\t%s\n", h)
		}
	}
	if err := replaceFile(hostsPath, b.String()); err != nil {
		logf("%v", err)
	}
}

// hostsNames are the names a hosts file maps.
func hostsNames(hosts string) map[string]bool {
	names := map[string]bool{}
	for _, line := range strings.Split(hosts, "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		for _, n := range f[min(1, len(f)):] {
			names[n] = true
		}
	}
	return names
}

// writeResolvConf writes the name servers and search domains, if the
// network gives any servers: an image's own /etc/resolv.conf stays when
// it gives none.
func writeResolvConf(dns []net.IP, search []string) error {
	if len(dns) == 0 {
		return nil
	}
	var b strings.Builder
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	for _, ip := range dns {
		fmt.Fprintf(&b, "nameserver %s\n", ip)
	}
	return replaceFile(resolvPath, b.String())
}

// replaceFile writes a file atomically: a renewal rewrites resolv.conf
// while the app may be reading it.
func replaceFile(path, content string) error {
	os.MkdirAll(filepath.Dir(path), 0o755)
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
