// Command hello is a test app for keel's QEMU tests and boot benchmarks.
// With no arguments or an exit code it prints numbered lines to stdout and
// stderr and exits with that code; with "net URL" it prints its network
// configuration and the answer of an HTTP GET of URL; the other modes are
// described where main picks them.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "clock" {
		// First thing: when did the app start, on the kernel's clock.
		var ts unix.Timespec
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
		kernelClock(ts.Nano() / 1000)
		return
	}
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "exit":
			return
		case "spawn": // start N children that exit at once, and leave them: orphans
			n, _ := strconv.Atoi(os.Args[2])
			for i := 0; i < n; i++ {
				if err := forkExit(); err != 0 {
					fmt.Println("spawn:", err)
				}
			}
			return
		case "orphans":
			orphans(os.Args[2])
			return
		case "crash": // exit 3 on the first N runs of this boot, then 0
			crash(os.Args[2])
		case "count": // N numbered lines, one every INTERVAL
			count(os.Args[2], os.Args[3])
			return
		case "rss": // init's memory, idle and while this app logs at RATE lines/s
			rss(os.Args[2], os.Args[3])
			return
		case "daemon": // leave a daemon (its own session) writing to our stdout, and exit
			daemon()
			return
		case "daemon-child":
			daemonChild()
			return
		case "limits":
			var lim unix.Rlimit
			unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
			fmt.Printf("nofile %d/%d\n", lim.Cur, lim.Max)
			for _, e := range os.Environ() {
				fmt.Printf("env %s\n", e)
			}
			wd, _ := os.Getwd()
			fmt.Printf("uid %d gid %d wd %s\n", os.Getuid(), os.Getgid(), wd)
			return
		}
	}
	if len(os.Args) > 1 && os.Args[1] == "loop" {
		loop()
		return
	}
	if len(os.Args) > 2 && os.Args[1] == "net" {
		code := 0
		for i, url := range os.Args[2:] {
			if c := netCheck(url, i == 0); i == 0 {
				code = c
			}
		}
		os.Exit(code)
	}
	for i := 0; i < 3; i++ {
		fmt.Fprintf(os.Stdout, "hello stdout %d\n", i)
		fmt.Fprintf(os.Stderr, "hello stderr %d\n", i)
	}
	code := 0
	if len(os.Args) > 1 {
		code, _ = strconv.Atoi(os.Args[1])
	}
	os.Exit(code)
}

func netCheck(url string, show bool) int {
	if show {
		ifs, _ := net.Interfaces()
		for _, i := range ifs {
			addrs, _ := i.Addrs()
			fmt.Printf("iface %s mtu %d addrs %v\n", i.Name, i.MTU, addrs)
		}
		if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
			fmt.Printf("resolv.conf: %q\n", b)
		}
	}
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Printf("GET %s: %v\n", url, err)
		return 1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Printf("GET %s: %d %s\n", url, resp.StatusCode, b)
	return 0
}

// loop logs a numbered line every 50 ms until SIGTERM, then says so and
// exits 0; with $IGNORE_TERM set it ignores SIGTERM.
func loop() {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	for i := 0; ; i++ {
		select {
		case <-term:
			if os.Getenv("IGNORE_TERM") != "" {
				fmt.Println("ignoring SIGTERM")
				continue
			}
			fmt.Printf("got SIGTERM after line %d\n", i-1)
			os.Exit(0)
		case <-time.After(50 * time.Millisecond):
			fmt.Printf("loop %d\n", i)
		}
	}
}

// orphans makes N orphans (through a child that forks them and exits:
// they are its zombies until then, init's after), reports how long init
// took to reap them all, waits, and counts the zombies left on the machine.
func orphans(n string) {
	t0 := time.Now()
	pid, err := syscall.ForkExec("/proc/self/exe", []string{"hello", "spawn", n}, &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
	if err != nil {
		fmt.Println("spawner:", err)
		os.Exit(1)
	}
	var ws syscall.WaitStatus
	syscall.Wait4(pid, &ws, 0, nil)
	// The spawner's exit hands its zombie children to init at once.
	t1 := time.Now()
	for time.Since(t1) < 30*time.Second {
		if z := census(); z == 0 {
			fmt.Printf("orphans reaped: %s in %d ms (made in %d ms)\n", n, time.Since(t1).Milliseconds(), t1.Sub(t0).Milliseconds())
			break
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	zombies := census()
	fmt.Printf("orphans made: %s, zombies left: %d\n", n, zombies)
}

// census counts the zombies on the machine.
func census() (zombies int) {
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// "pid (comm) S ...": the state follows the last ')'.
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i > 0 && i+2 < len(s) && s[i+2] == 'Z' {
			zombies++
		}
	}
	return zombies
}

// forkExit forks a child that exits at once: a bare fork, not fork and
// exec of a Go binary, so that a storm of them measures the reaping and not
// the Go runtime's start under emulation. The child runs only these two
// raw system calls (nosplit, no runtime), as syscall.forkAndExecInChild does.
//
//go:nosplit
func forkExit() syscall.Errno {
	pid, _, err := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
	if err == 0 && pid == 0 {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
	return err
}

// daemon starts a child in a session of its own, outside the app's
// process group, that shares our stdout, and exits once it ticks: what the
// app leaves behind init must stop before the power-off.
func daemon() {
	r, w, _ := os.Pipe()
	_, err := syscall.ForkExec("/proc/self/exe", []string{os.Args[0], "daemon-child"}, &syscall.ProcAttr{
		Files: []uintptr{0, 1, 2, w.Fd()}, Sys: &syscall.SysProcAttr{Setsid: true}})
	if err != nil {
		fmt.Println("daemon:", err)
		os.Exit(1)
	}
	w.Close()
	r.Read(make([]byte, 1)) // its first tick is out
	fmt.Println("parent exiting")
}

// daemonChild ticks until SIGTERM, which it reports.
func daemonChild() {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	ready := os.NewFile(3, "ready")
	for i := 0; ; i++ {
		fmt.Printf("daemon tick %d\n", i)
		if i == 0 {
			ready.Write([]byte{1})
			ready.Close()
		}
		select {
		case <-term:
			fmt.Println("daemon: SIGTERM, exiting")
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// crash exits 3 on the first n runs of this boot (counted in a file on
// /tmp, which outlives the runs), then 0: a crash loop that ends.
func crash(n string) {
	max, _ := strconv.Atoi(n)
	const f = "/tmp/hello-runs"
	b, _ := os.ReadFile(f)
	runs, _ := strconv.Atoi(string(b))
	runs++
	os.WriteFile(f, []byte(strconv.Itoa(runs)), 0o644)
	if runs <= max {
		fmt.Printf("run %d: crashing\n", runs)
		os.Exit(3)
	}
	fmt.Printf("run %d: fine\n", runs)
	os.Exit(0)
}

// count prints n numbered lines, one every interval.
func count(n, interval string) {
	max, _ := strconv.Atoi(n)
	d, _ := time.ParseDuration(interval)
	for i := 0; i < max; i++ {
		fmt.Printf("count %d\n", i)
		time.Sleep(d)
	}
}

// rss reports PID 1's resident memory (from /proc/1/status, readable by
// every user) when idle, then while writing rate lines/s for dur.
func rss(rate, dur string) {
	vmRSS := func() string {
		b, _ := os.ReadFile("/proc/1/status")
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmRSS:") {
				return strings.Join(strings.Fields(l)[1:], " ")
			}
		}
		return "?"
	}
	time.Sleep(2 * time.Second)
	fmt.Printf("init rss idle: %s\n", vmRSS())
	r, _ := strconv.Atoi(rate)
	d, _ := time.ParseDuration(dur)
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	start := time.Now()
	sent := 0
	var line []byte
	for time.Since(start) < d {
		// Catch up to the rate every millisecond or so: a line at a time
		// would cost a syscall each.
		due := int(time.Since(start).Seconds() * float64(r))
		for ; sent < due; sent++ {
			// By hand, not fmt: under emulation fmt alone caps the rate.
			line = strconv.AppendInt(append(line[:0], "line "...), int64(sent), 10)
			line = append(line, " of a steady stream of log lines at a fixed rate\n"...)
			w.Write(line)
		}
		w.Flush()
		time.Sleep(time.Millisecond)
	}
	w.Flush()
	el := time.Since(start).Seconds()
	during := vmRSS()
	// The console drops what it cannot write in time: let it catch up so
	// that the figure is seen.
	time.Sleep(4 * time.Second)
	fmt.Fprintf(os.Stderr, "init rss at %.0f lines/s: %s\n", float64(sent)/el, during)
}

// kernelClock (run as root) marks the app's start in the kernel log and
// prints, on the kernel log's clock, when the kernel ran /init, when init
// marked its start of the app ("keel: app started", written by keel's init
// and by the bench's bare init) and when the app itself ran: from init's very first instruction, its Go runtime and
// package initialisation included, which init's own clock cannot see. Both
// stamps come from the one clock: CLOCK_MONOTONIC and the kernel log's
// clock may differ by an offset.
func kernelClock(startUS int64) {
	const marker = "hello: app started"
	mark := func() error {
		f, err := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0) // no O_CREAT: a plain file would swallow it
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.WriteString(marker + "\n")
		return err
	}
	err := mark()
	if errors.Is(err, os.ErrNotExist) {
		// No devtmpfs (the bare init mounts nothing): make the node.
		unix.Mknod("/dev/kmsg", unix.S_IFCHR|0o600, int(unix.Mkdev(1, 11)))
		err = mark()
	}
	fmt.Printf("app start monotonic-us %d\n", startUS)
	if err != nil {
		fmt.Printf("kernel clock: write /dev/kmsg: %v\n", err)
		return
	}
	buf := make([]byte, 1<<20)
	n, err := unix.Klogctl(unix.SYSLOG_ACTION_READ_ALL, buf)
	if err != nil {
		fmt.Printf("kernel clock: read the kernel log: %v\n", err)
		return
	}
	var initUS, execUS, appUS int64 = -1, -1, -1
	for _, line := range strings.Split(string(buf[:n]), "\n") {
		// <6>[    2.210838] Run /init as init process
		lb, rb := strings.IndexByte(line, '['), strings.IndexByte(line, ']')
		if lb < 0 || rb < lb {
			continue
		}
		sec, err := strconv.ParseFloat(strings.TrimSpace(line[lb+1:rb]), 64)
		if err != nil {
			continue
		}
		switch text := strings.TrimSpace(line[rb+1:]); {
		case strings.HasPrefix(text, "Run /init as init process"):
			initUS = int64(sec * 1e6)
		case strings.HasPrefix(text, "keel: app started") && execUS < 0:
			execUS = int64(sec * 1e6)
		case strings.HasSuffix(text, marker):
			appUS = int64(sec * 1e6)
		}
	}
	fmt.Printf("kernel clock: init exec-us %d app exec-us %d app start-us %d\n", initUS, execUS, appUS)
}
