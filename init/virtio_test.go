package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestHasPCIVendor(t *testing.T) {
	dir := t.TempDir()
	for dev, vendor := range map[string]string{"0000:00:00.0": "0x8086", "0000:00:04.0": "0x1d0f"} { // Intel, Amazon (ENA)
		os.MkdirAll(filepath.Join(dir, dev), 0o755)
		os.WriteFile(filepath.Join(dir, dev, "vendor"), []byte(vendor+"\n"), 0o644)
	}
	if hasPCIVendor(dir, virtioVendor) {
		t.Fatal("found virtio on a machine without")
	}
	os.MkdirAll(filepath.Join(dir, "0000:00:02.0"), 0o755)
	os.WriteFile(filepath.Join(dir, "0000:00:02.0", "vendor"), []byte("0x1af4\n"), 0o644)
	if !hasPCIVendor(dir, virtioVendor) {
		t.Fatal("missed the virtio device")
	}
	if !hasPCIVendor(filepath.Join(dir, "missing"), virtioVendor) {
		t.Fatal("unreadable sysfs must load the modules")
	}
}

func TestModuleName(t *testing.T) {
	got := []string{moduleName("/lib/modules/6.1/kernel/drivers/net/virtio_net.ko"), moduleName("net-failover"), moduleName("ena")}
	if want := []string{"virtio_net", "net_failover", "ena"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
}

// TestSkipAbsentVirtio: an image whose only NIC is virtio loads its
// modules without looking (this test's host may have no virtio device).
func TestSkipAbsentVirtio(t *testing.T) {
	mods := []string{"/m/virtio_ring.ko", "/m/virtio_net.ko", "/m/virtio_pci.ko", "/m/evdev.ko"}
	if got := skipAbsentVirtio(mods); !reflect.DeepEqual(got, mods) {
		t.Fatalf("virtio-only image: %v", got)
	}
}
