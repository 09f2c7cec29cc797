// Command hello is a test app for keel's QEMU tests. With no arguments or
// an exit code it prints numbered lines to stdout and stderr and exits
// with that code; with "net URL" it prints its network configuration and
// the answer of an HTTP GET of URL.
package main

import (
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
		fmt.Printf("app start monotonic-us %d\n", ts.Nano()/1000)
		return
	}
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "exit":
			return
		case "spawn": // start N children and leave them: they become orphans
			n, _ := strconv.Atoi(os.Args[2])
			for i := 0; i < n; i++ {
				if _, err := syscall.ForkExec("/proc/self/exe", []string{"hello", "exit"}, &syscall.ProcAttr{}); err != nil {
					fmt.Println("spawn:", err)
				}
			}
			return
		case "orphans":
			orphans(os.Args[2])
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

// orphans makes N orphans (through a child that starts them and exits at
// once), waits, and counts the zombies left on the machine.
func orphans(n string) {
	pid, err := syscall.ForkExec("/proc/self/exe", []string{"hello", "spawn", n}, &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
	if err != nil {
		fmt.Println("spawner:", err)
		os.Exit(1)
	}
	var ws syscall.WaitStatus
	syscall.Wait4(pid, &ws, 0, nil)
	time.Sleep(3 * time.Second)
	zombies := 0
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
	fmt.Printf("orphans made: %s, zombies left: %d\n", n, zombies)
}
