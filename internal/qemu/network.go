package qemu

import (
	"fmt"
	"strings"
)

// The guest's view of the host services on a link-local user network
// (Config.IMDS set): EC2's metadata address, and one address for the
// other forwarded services (the log server). QEMU refuses a guestfwd to
// 169.254.169.254 unless the user network itself is link-local
// (REFERENCE.md section 9), so the whole network moves there.
const (
	IMDSAddr             = "169.254.169.254"
	LinkLocalServiceAddr = "169.254.0.100"
	// DefaultServiceAddr is where Forwards appear on QEMU's default
	// user network (10.0.2.0/24).
	DefaultServiceAddr = "10.0.2.100"
	linkLocalNet       = "net=169.254.0.0/16,host=169.254.0.2,dns=169.254.0.3,dhcpstart=169.254.0.15"
)

// ServiceAddr is the guest address at which cfg's Forwards appear.
func (cfg Config) ServiceAddr() string {
	if cfg.IMDS != "" {
		return LinkLocalServiceAddr
	}
	return DefaultServiceAddr
}

// netdevArg is the -netdev value of cfg: user networking with
// restrict=on, so that the guest reaches nothing but the forwards.
func netdevArg(cfg Config) string {
	netdev := "user,id=n0,restrict=on"
	if cfg.IMDS != "" {
		netdev += "," + linkLocalNet
	}
	fwd := func(addr string, port int, host string) {
		cmd := strings.ReplaceAll(fmt.Sprintf(cfg.ForwardCmd, host), ",", ",,")
		netdev += fmt.Sprintf(",guestfwd=tcp:%s:%d-cmd:%s", addr, port, cmd)
	}
	for _, f := range cfg.Forwards {
		fwd(cfg.ServiceAddr(), f.Port, f.Host)
	}
	if cfg.IMDS != "" {
		fwd(IMDSAddr, 80, cfg.IMDS)
	}
	for _, f := range cfg.HostForwards {
		netdev += fmt.Sprintf(",hostfwd=tcp:127.0.0.1:%d-:%d", f.Host, f.Guest)
	}
	return netdev
}
