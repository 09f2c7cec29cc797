// Command hello is a test app for keel's QEMU tests: it prints numbered
// lines to stdout and stderr and exits with the code in $HELLO_EXIT.
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	for i := 0; i < 3; i++ {
		fmt.Fprintf(os.Stdout, "hello stdout %d\n", i)
		fmt.Fprintf(os.Stderr, "hello stderr %d\n", i)
	}
	code, _ := strconv.Atoi(os.Getenv("HELLO_EXIT"))
	if len(os.Args) > 1 {
		code, _ = strconv.Atoi(os.Args[1])
	}
	os.Exit(code)
}
