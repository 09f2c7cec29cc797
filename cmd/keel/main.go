// Command keel builds, runs and observes minimal VM images whose PID 1 is
// keel's init, and serves CloudWatch Logs locally.
//
// Subcommands follow the Go flag package's style: `keel CMD -flag value`.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/keelvm/keel/internal/qemu"
)

// command is one `keel` subcommand.
type command struct {
	name    string
	summary string
	run     func(args []string) error
}

var commands []command

func register(c command) { commands = append(commands, c) }

// exitError carries a specific exit status out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	if name == qemu.Marker && len(args) == 2 {
		// QEMU runs this per guest connection to the log server. Its
		// stderr is the guest's connection too: say nothing there.
		if err := qemu.ServeForward(args[1]); err != nil {
			return 1
		}
		return 0
	}
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return run([]string{args[1], "-h"}, stderr)
		}
		usage(os.Stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == name {
			err := c.run(args[1:])
			var ee *exitError
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.As(err, &ee):
				fmt.Fprintf(stderr, "keel %s: %v\n", name, ee.err)
				return ee.code
			case errors.Is(err, errUsage):
				return 2
			}
			fmt.Fprintf(stderr, "keel %s: %v\n", name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "keel: unknown command %q; run 'keel help' for the list\n", name)
	return 2
}

// errUsage means the flag package has already explained the mistake.
var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintf(w, "keel builds minimal VM images whose PID 1 is keel's init, runs them, and ships their logs to CloudWatch Logs.\n\n")
	fmt.Fprintf(w, "Usage:\n\n\tkeel <command> [flags] [arguments]\n\nCommands:\n\n")
	sort.Slice(commands, func(i, j int) bool { return commands[i].name < commands[j].name })
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'keel <command> -h' for the flags of a command.\n")
	fmt.Fprintf(w, "Environment: KEEL_HOME moves all of keel's state (default ~/.keel).\n")
}

// newFlags returns a FlagSet whose -h output starts with what the command
// does, so that `keel CMD -h` is a complete manual page for it.
func newFlags(name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: keel %s\n\n%s\n", synopsis, strings.TrimSpace(about))
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintf(w, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// noArgs refuses arguments after the flags of a command that takes none:
// ignored, they would look obeyed.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: keel %s takes none (see keel %s -h)", fs.Arg(0), fs.Name(), fs.Name())
	}
	return nil
}

// parse parses flags, mapping the flag package's errors onto exit codes.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}
