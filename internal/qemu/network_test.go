package qemu

import (
	"strings"
	"testing"
)

func TestNetdevArg(t *testing.T) {
	base := Config{ForwardCmd: "/bin/fwd %s", Forwards: []Forward{{Port: 4566, Host: "127.0.0.1:4566"}},
		HostForwards: []HostForward{{Host: 8080, Guest: 80}}}
	def := netdevArg(base)
	for _, w := range []string{"user,id=n0,restrict=on,", "guestfwd=tcp:10.0.2.100:4566-cmd:/bin/fwd 127.0.0.1:4566", "hostfwd=tcp:127.0.0.1:8080-:80"} {
		if !strings.Contains(def, w) {
			t.Errorf("default network %q lacks %q", def, w)
		}
	}
	if strings.Contains(def, "169.254") {
		t.Errorf("default network %q is link-local", def)
	}
	ll := base
	ll.IMDS = "127.0.0.1:9999"
	got := netdevArg(ll)
	for _, w := range []string{"restrict=on", "net=169.254.0.0/16,host=169.254.0.2", "guestfwd=tcp:169.254.0.100:4566-cmd:/bin/fwd 127.0.0.1:4566",
		"guestfwd=tcp:169.254.169.254:80-cmd:/bin/fwd 127.0.0.1:9999"} {
		if !strings.Contains(got, w) {
			t.Errorf("link-local network %q lacks %q", got, w)
		}
	}
	if ll.ServiceAddr() != LinkLocalServiceAddr || base.ServiceAddr() != DefaultServiceAddr {
		t.Error("ServiceAddr")
	}
}
