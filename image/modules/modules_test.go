package modules

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/internal/home"
	"github.com/keelvm/keel/internal/testutil"
)

func TestResolveVirtioNet(t *testing.T) {
	cache, _ := home.Path("kernels")
	k, err := kernel.Ensure(cache, "", nil)
	if err != nil {
		testutil.Unavailable(t, "no kernel: %v", err)
	}
	tree, err := Open(k.Modules)
	if err != nil {
		t.Fatal(err)
	}
	order, err := tree.Resolve("virtio_net", "button", "evdev")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range order {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".ko"))
	}
	pos := map[string]int{}
	for i, n := range names {
		pos[n] = i
	}
	// docs/kernels-qemu.md: the virtio-net chain.
	for _, pair := range [][2]string{{"failover", "net_failover"}, {"net_failover", "virtio_net"}} {
		a, okA := pos[pair[0]]
		b, okB := pos[pair[1]]
		if !okA || !okB || a > b {
			t.Fatalf("%s must come before %s in %v", pair[0], pair[1], names)
		}
	}
	if _, ok := pos["virtio_net"]; !ok {
		t.Fatalf("virtio_net missing: %v", names)
	}
	if _, err := tree.Resolve("no_such_module"); err == nil || !strings.Contains(err.Error(), `"no_such_module"`) {
		t.Fatalf("unknown module: %v", err)
	}
	t.Logf("load order: %v", names)
}
