// Package qemu boots keel images under QEMU for tests and for `keel run`:
// direct kernel boot, the serial console captured, the guest's network
// restricted to the host services it is given (user networking with
// restrict=on, each service reached through a guestfwd to loopback), and
// QMP for pressing the power button.
//
// It knows how to run a VM, not what is in it.
package qemu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Binary is the emulator keel runs.
const Binary = "qemu-system-x86_64"

// Forward makes host address Host (on loopback) reachable from the guest at
// Config.ServiceAddr():Port (10.0.2.100, or 169.254.0.100 with IMDS).
type Forward struct {
	Port int
	Host string // host:port on 127.0.0.1
}

// HostForward makes guest TCP port Guest reachable on the host at
// 127.0.0.1:Host (QEMU's hostfwd, bound to loopback only).
type HostForward struct {
	Host, Guest int
}

// Config describes a VM. It boots either a kernel and initramfs directly
// (Kernel, Initrd, Cmdline) or a disk image through UEFI firmware (Disk,
// Firmware).
type Config struct {
	Kernel, Initrd string
	Cmdline        string
	// Disk is a disk image attached to the controller DiskBus names
	// (BusAHCI, VirtualBox's default SATA disk, by default; BusNVMe as on
	// EC2); DiskFormat is QEMU's name for its format (raw, vdi, vmdk;
	// default raw). The image is never written (snapshot=on).
	Disk, DiskFormat, DiskBus string
	// Firmware is a UEFI firmware image (OVMF) to boot Disk with; it is
	// copied, never written.
	Firmware     string
	MemoryMB     int    // default 512
	CPUs         int    // default 1
	NIC          string // QEMU device model: virtio-net-pci (default) or e1000
	Forwards     []Forward
	HostForwards []HostForward
	// IMDS, if set, is a local instance metadata service (host:port on
	// loopback) that the guest reaches at 169.254.169.254:80, as on EC2;
	// the user network is link-local then (see ServiceAddr).
	IMDS string
	// ForwardCmd is the command QEMU runs per guest connection, with the
	// connection on its stdin and stdout, to reach Host; %s is replaced
	// by Host. Default: this program re-run with Marker (see ServeForward).
	ForwardCmd string
	Dir        string    // scratch directory (QMP socket, console log)
	Console    io.Writer // receives the serial console as it comes; may be nil
	// Accel is "kvm" or "tcg"; empty: Accel's choice.
	Accel string
	// AppDisk is a disk image attached read-only as a virtio disk with
	// serial AppDiskSerial (an image's app disk, with a kernel boot).
	AppDisk, AppDiskSerial string
	// NoRNG leaves out the virtio RNG device every VM gets otherwise, so
	// that the guest's kernel has entropy at once (QEMU's default CPU has
	// no RDRAND).
	NoRNG bool
}

// Marker is the first argument with which a program acts as a guestfwd
// forwarder: call ServeForward from main (or TestMain) when it is present.
const Marker = "keel-qemu-forward"

// VM is a running virtual machine.
type VM struct {
	cmd     *exec.Cmd
	qmpPath string
	done    chan struct{}
	err     error

	mu      sync.Mutex
	console bytes.Buffer
}

// Available reports whether QEMU can be run here.
func Available() error {
	if _, err := exec.LookPath(Binary); err != nil {
		return fmt.Errorf("%s not found: install the Debian package qemu-system-x86 (apt-get install --no-install-recommends qemu-system-x86)", Binary)
	}
	return nil
}

// Start boots the VM.
func Start(cfg Config) (*VM, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if cfg.MemoryMB == 0 {
		cfg.MemoryMB = 512
	}
	if cfg.NIC == "" {
		cfg.NIC = "virtio-net-pci"
	}
	if cfg.Accel == "" {
		a, err := Accel()
		if err != nil {
			return nil, err
		}
		cfg.Accel = a
	}
	if cfg.Accel != "kvm" && cfg.Accel != "tcg" {
		return nil, fmt.Errorf("start VM: accelerator %q: want kvm or tcg", cfg.Accel)
	}
	var cleanup []string
	if cfg.ForwardCmd == "" && (len(cfg.Forwards) > 0 || cfg.IMDS != "") {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		exe, tmp, err := spacelessPath(exe, cfg.Dir)
		if err != nil {
			return nil, err
		}
		if tmp != "" {
			cleanup = append(cleanup, tmp)
		}
		cfg.ForwardCmd = exe + " " + Marker + " %s"
	}
	started := false
	removeTemps := func() {
		for _, d := range cleanup {
			os.RemoveAll(d)
		}
	}
	defer func() {
		if !started {
			removeTemps()
		}
	}()
	if cfg.CPUs == 0 {
		cfg.CPUs = 1
	}
	// restrict=on: the guest reaches nothing but what is forwarded.
	netdev := netdevArg(cfg)
	qmp := filepath.Join(cfg.Dir, "qmp.sock")
	args := []string{
		"-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
		"-machine", "q35", "-accel", cfg.Accel, "-cpu", "max",
		"-m", fmt.Sprint(cfg.MemoryMB), "-smp", fmt.Sprint(cfg.CPUs),
		"-serial", "stdio", "-monitor", "none",
		"-qmp", "unix:" + strings.ReplaceAll(qmp, ",", ",,") + ",server=on,wait=off",
		"-netdev", netdev, "-device", cfg.NIC + ",netdev=n0",
	}
	switch {
	case cfg.Disk != "":
		da, err := diskArgs(cfg)
		if err != nil {
			return nil, err
		}
		args = append(args, da...)
	case cfg.Kernel != "":
		args = append(args, "-kernel", cfg.Kernel, "-initrd", cfg.Initrd, "-append", cfg.Cmdline)
		if cfg.AppDisk != "" {
			args = append(args, "-drive", "file="+strings.ReplaceAll(cfg.AppDisk, ",", ",,")+",format=raw,if=none,id=app,readonly=on",
				"-device", "virtio-blk-pci,drive=app,serial="+cfg.AppDiskSerial)
		}
	default:
		return nil, errors.New("start VM: neither a kernel nor a disk to boot")
	}
	if !cfg.NoRNG {
		args = append(args, "-device", "virtio-rng-pci")
	}
	vm := &VM{qmpPath: qmp, done: make(chan struct{})}
	vm.cmd = exec.Command(Binary, args...)
	// Its own process group: a Ctrl-C at the terminal goes to the program
	// that runs the VM, which presses the power button, and does not kill
	// QEMU outright. Pdeathsig: the VM does not outlive that program.
	vm.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := vm.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	vm.cmd.Stderr = vm.cmd.Stdout
	if err := vm.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", Binary, err)
	}
	started = true
	go func() {
		r := bufio.NewReader(out)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				vm.mu.Lock()
				vm.console.Write(buf[:n])
				vm.mu.Unlock()
				if cfg.Console != nil {
					cfg.Console.Write(buf[:n])
				}
			}
			if err != nil {
				break
			}
		}
		vm.err = vm.cmd.Wait()
		removeTemps() // before done: a caller may exit as soon as it closes
		close(vm.done)
	}()
	return vm, nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o600)
}

// Done is closed when QEMU has exited.
func (vm *VM) Done() <-chan struct{} { return vm.done }

// Console returns what the guest printed so far.
func (vm *VM) Console() string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.console.String()
}

// Wait waits for QEMU to exit (the guest powered off) or ctx to end, in
// which case the VM is killed.
func (vm *VM) Wait(ctx context.Context) error {
	select {
	case <-vm.done:
		return vm.err
	case <-ctx.Done():
		vm.Kill()
		return ctx.Err()
	}
}

// Kill stops QEMU at once.
func (vm *VM) Kill() {
	if vm.cmd.Process != nil {
		vm.cmd.Process.Kill()
	}
	<-vm.done
}

// WaitFor waits until the console contains s.
func (vm *VM) WaitFor(ctx context.Context, s string) error {
	for {
		if strings.Contains(vm.Console(), s) {
			return nil
		}
		select {
		case <-vm.done:
			if strings.Contains(vm.Console(), s) {
				return nil
			}
			return fmt.Errorf("VM exited before printing %q", s)
		case <-ctx.Done():
			return fmt.Errorf("waiting for %q: %w", s, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// PowerButton presses the ACPI power button through QMP, as
// `system_powerdown` does on QEMU, VirtualBox and EC2.
func (vm *VM) PowerButton() error {
	c, err := net.DialTimeout("unix", vm.qmpPath, 5*time.Second)
	if err != nil {
		return fmt.Errorf("connect to QMP %s: %w", vm.qmpPath, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	dec := json.NewDecoder(c)
	var greeting map[string]any
	if err := dec.Decode(&greeting); err != nil {
		return fmt.Errorf("QMP greeting: %w", err)
	}
	for _, cmd := range []string{"qmp_capabilities", "system_powerdown"} {
		if _, err := fmt.Fprintf(c, `{"execute":%q}`+"\n", cmd); err != nil {
			return err
		}
		for {
			var msg map[string]any
			if err := dec.Decode(&msg); err != nil {
				return fmt.Errorf("QMP %s: %w", cmd, err)
			}
			if e, ok := msg["error"]; ok {
				return fmt.Errorf("QMP %s: %v", cmd, e)
			}
			if _, ok := msg["return"]; ok {
				break
			}
		}
	}
	return nil
}

// ForwardIfAsked serves one guestfwd connection and exits when QEMU ran
// this program as its forwarder (arguments Marker HOST); otherwise it
// returns. Call it first in main, init or TestMain of a program that
// starts VMs with the default ForwardCmd.
func ForwardIfAsked() {
	if len(os.Args) == 3 && os.Args[1] == Marker {
		if err := ServeForward(os.Args[2]); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// ServeForward connects stdin/stdout (a guest connection handed over by
// QEMU's guestfwd cmd:) to host, which must be on loopback.
func ServeForward(host string) error {
	h, _, err := net.SplitHostPort(host)
	if err != nil || !(h == "127.0.0.1" || h == "localhost" || h == "::1") {
		return errors.New("guestfwd target must be on loopback")
	}
	c, err := net.Dial("tcp", host)
	if err != nil {
		return err
	}
	defer c.Close()
	// The guest's half-close reaches the server as ours; the server's
	// end of the connection ends the forwarder (whose exit closes the
	// guest's side), even while the guest still has its side open.
	go func() {
		io.Copy(c, os.Stdin)
		c.(*net.TCPConn).CloseWrite()
	}()
	_, err = io.Copy(os.Stdout, c)
	return err
}

// spacelessPath returns a path to the executable exe without white space,
// which QEMU's guestfwd cmd: cannot carry (libslirp splits the command on
// spaces, with no quoting): exe itself, or a symlink to it in dir or in a
// new temporary directory, returned as tmp for removal when the VM ends.
func spacelessPath(exe, dir string) (path, tmp string, err error) {
	if !strings.ContainsAny(exe, " \t\n") {
		return exe, "", nil
	}
	if dir != "" && !strings.ContainsAny(dir, " \t\n") {
		link := filepath.Join(dir, "keel-forward")
		os.Remove(link)
		if err := os.Symlink(exe, link); err == nil {
			return link, "", nil
		}
	}
	for _, base := range []string{os.TempDir(), "/tmp"} {
		if strings.ContainsAny(base, " \t\n") {
			continue
		}
		d, err := os.MkdirTemp(base, "keel-forward-")
		if err != nil {
			continue
		}
		link := filepath.Join(d, "keel-forward")
		if err := os.Symlink(exe, link); err != nil {
			os.RemoveAll(d)
			continue
		}
		return link, d, nil
	}
	return "", "", fmt.Errorf("QEMU's guestfwd cannot run %q: its path has a space, and no directory without one took a symlink to it: move keel to a path without spaces", exe)
}
