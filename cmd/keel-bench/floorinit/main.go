// Command floorinit is the kernel floor of the boot figures: a PID 1 that
// does only the kernel work any init with a network must do before its
// app starts on a keel image (load the NIC's modules, set loopback and the
// NIC up), then marks its exec of the app in the kernel's log and execs
// the app, as bareinit does.
//
// It reads the modules from a plain list (/etc/floor-modules, one path a
// line, in load order) rather than keel's JSON configuration, and sets the
// links up with ioctls rather than netlink: the floor should hold the
// kernel's work and as little of its own as it can. What keel takes over
// this floor is what keel's own code costs (DHCP included).
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/keelvm/keel/cmd/keel-bench/benchinit"
)

func main() {
	benchinit.Start("floor")
	if err := run(); err != nil {
		// The bench sees no app start and reports this line.
		fmt.Fprintf(os.Stderr, "floor init: %v\n", err)
		select {}
	}
	err := syscall.Exec("/app/hello", []string{"/app/hello", "clock"}, nil)
	fmt.Fprintf(os.Stderr, "floor init: exec: %v\n", err)
	select {}
}

func run() error {
	list, err := os.ReadFile("/etc/floor-modules")
	if err != nil {
		return err
	}
	for _, p := range strings.Fields(string(list)) {
		if err := load(p); err != nil {
			return err
		}
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	// Loopback is index 1; the NIC the modules just made, index 2.
	for _, index := range []int32{1, 2} {
		if err := up(fd, index); err != nil {
			return err
		}
	}
	benchinit.MarkAppStarted()
	return nil
}

func load(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.FinitModule(int(f.Fd()), "", 0); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("finit_module %s: %w", path, err)
	}
	return nil
}

// ifreq is struct ifreq for SIOCGIFNAME and the flags ioctls: the name,
// then a union whose first member is the index or the flags.
type ifreq struct {
	name  [unix.IFNAMSIZ]byte
	value int32
	_     [20]byte
}

// up sets the interface of an index up.
func up(fd int, index int32) error {
	r := ifreq{value: index}
	ioctl := func(req uintptr) error {
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(&r))); e != 0 {
			return e
		}
		return nil
	}
	if err := ioctl(unix.SIOCGIFNAME); err != nil {
		return fmt.Errorf("interface %d: %w", index, err)
	}
	r.value = 0 // the flags are a short: clear the index's bytes
	if err := ioctl(unix.SIOCGIFFLAGS); err != nil {
		return fmt.Errorf("interface %d flags: %w", index, err)
	}
	r.value |= unix.IFF_UP
	if err := ioctl(unix.SIOCSIFFLAGS); err != nil {
		return fmt.Errorf("set interface %d up: %w", index, err)
	}
	return nil
}
