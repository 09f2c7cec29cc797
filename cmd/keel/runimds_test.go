package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/internal/qemu"
)

func TestNewInstanceID(t *testing.T) {
	re := regexp.MustCompile(`^i-[0-9a-f]{17}$`)
	a, b := newInstanceID(), newInstanceID()
	if !re.MatchString(a) || !re.MatchString(b) || a == b {
		t.Fatalf("instance ids %q %q: want i- and 17 hex digits, distinct", a, b)
	}
}

// TestLaunchConfig: keel run's user data as the VM applies it: the log
// server and the group of -env over the image's, -set over both; a -set
// the image would refuse is refused before the boot.
func TestLaunchConfig(t *testing.T) {
	img := bootcfg.Config{App: "/app/hello", Logs: &bootcfg.Logs{Group: "keel/dev", Stream: "alice/hello"}}
	c, err := launchConfig(img, runFlags{env: "staging", sets: stringList{"keel.env=GREETING=hello world", "keel.logs.format=text"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Logs.Group != "keel/staging" || c.Logs.Endpoint != guestLogEndpoint || c.Logs.Format != "text" ||
		len(c.Env) != 1 || c.Env[0] != "GREETING=hello world" {
		t.Fatalf("launch config %+v %+v", c, c.Logs)
	}
	if img.Logs.Group != "keel/dev" {
		t.Fatal("launchConfig changed the image's configuration")
	}
	ud := string(userData(guestLogEndpoint, "keel/staging", []string{"keel.env=GREETING=hello world"}))
	if !strings.Contains(ud, `"keel.env=GREETING=hello world"`) || !strings.Contains(ud, "keel.logs.endpoint=http://169.254.0.100:4566") {
		t.Fatalf("user data:\n%s", ud)
	}
	// An image without logs gets none unless -set gives a group and a stream.
	c, err = launchConfig(bootcfg.Config{App: "/a"}, runFlags{env: "dev"})
	if err != nil || c.Logs != nil {
		t.Fatalf("image without logs: %+v %v", c.Logs, err)
	}
	c, err = launchConfig(bootcfg.Config{App: "/a"}, runFlags{env: "dev", sets: stringList{"keel.logs.group=x/y", "keel.logs.stream=a/b"}})
	if err != nil || c.Logs == nil || c.Logs.Group != "x/y" || c.Logs.Endpoint != guestLogEndpoint {
		t.Fatalf("logs from -set: %+v %v", c.Logs, err)
	}
	for _, bad := range []struct{ set, want string }{
		{"keel.colour=blue", `unknown key "keel.colour"`},
		{"keel.wait=sometimes", "network or none"},
		{"keel.logs.credentials=/k", "never come from user data"},
	} {
		if _, err := launchConfig(img, runFlags{env: "dev", sets: stringList{bad.set}}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("-set %s: %v, want %q", bad.set, err, bad.want)
		}
	}
	for _, bad := range []string{"colour=blue", "keel.env=\"q\"", "keel.env=a\nb"} {
		if checkSet(bad) == nil {
			t.Errorf("checkSet(%q) accepted", bad)
		}
	}
}

func TestTargetMachine(t *testing.T) {
	for _, tc := range []struct {
		target, nic, bus, file string
	}{
		{"qemu", "virtio-net-pci", "", "initrd.img"},
		{"virtualbox", "e1000", qemu.BusAHCI, "disk.vdi"},
		{"aws", "virtio-net-pci", qemu.BusNVMe, "disk.raw"},
	} {
		m, err := targetMachine("/img", tc.target)
		if err != nil {
			t.Fatalf("%s: %v", tc.target, err)
		}
		if m.cfg.NIC != tc.nic || m.cfg.DiskBus != tc.bus || m.files[len(m.files)-1] != tc.file {
			t.Errorf("%s: %+v", tc.target, m)
		}
	}
	if _, err := targetMachine("/img", "gcp"); err == nil {
		t.Error("unknown target accepted")
	}
}
