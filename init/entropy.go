package main

import "os"

// DHCP's transaction ids need no crypto-grade randomness (they only match
// answers to requests), but insomniacslk/dhcp takes them from u-root's
// rand, which polls getrandom(2) until the kernel's CRNG is ready: on a
// machine without RDRAND or a virtio-rng device that took two minutes.
// UROOT_NOHWRNG makes it read /dev/urandom, which never blocks. init's own
// environment: the app's is built from the configuration alone.
func init() { os.Setenv("UROOT_NOHWRNG", "1") }
