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
