package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/keelvm/keel/internal/fsutil"
	"github.com/keelvm/keel/internal/home"
)

func init() {
	register(command{name: "ps", summary: "list the VMs started with keel run -detach", run: runPs})
	register(command{name: "kill", summary: "stop a VM started with keel run -detach (power button)", run: runKill})
}

// instanceEnv carries a detached run's id to the keel run that serves it.
const instanceEnv = "KEEL_RUN_INSTANCE"

// instance is what `keel ps` knows of a detached run: the keel run
// process that owns the VM, and where its output goes.
type instance struct {
	ID      string    `json:"id"`
	Image   string    `json:"image"`
	PID     int       `json:"pid"`
	Run     string    `json:"run,omitempty"` // keelRunID of the owner: its pid may be reused once it ends
	Ports   []string  `json:"ports,omitempty"`
	Started time.Time `json:"started"`
	Log     string    `json:"log"`
}

func instancesDir() (string, error) { return home.Path("instances") }

// detach starts keel run again in its own session with output to a log
// file, waits until the app has started, and returns.
func detach(args []string, image string) error {
	dir, err := instancesDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	id := newInstanceID()
	logPath := filepath.Join(dir, id+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", logPath, err)
	}
	defer logf.Close()
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find keel's own executable: %w", err)
	}
	var rest []string
	for _, a := range args {
		if a != "-detach" && a != "--detach" && a != "-detach=true" {
			rest = append(rest, a)
		}
	}
	cmd := exec.Command(exe, append([]string{"run"}, rest...)...)
	cmd.Env = append(os.Environ(), instanceEnv+"="+id)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own session: closing the terminal does not stop the VM.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start keel run: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Stopped while waiting for the app, the detached run (in a session of
	// its own, which the terminal's Ctrl-C does not reach) stops too: a VM
	// nobody was told about must not stay behind.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case s := <-sigs:
			fmt.Fprintf(os.Stderr, "%v: stopping %s (keel run pid %d; its output: %s)\n", s, id, cmd.Process.Pid, logPath)
			cmd.Process.Signal(os.Interrupt) // keel run presses the power button
			select {
			case <-exited:
			case <-time.After(30 * time.Second):
				fmt.Fprintf(os.Stderr, "%s did not stop within 30 s: stop it with 'keel kill -force %s'\n", id, id)
			}
			return fmt.Errorf("stopped before the app started")
		case err := <-exited:
			b, _ := os.ReadFile(logPath)
			if strings.Contains(string(b), "] started pid ") {
				return fmt.Errorf("the app started and the VM stopped already (keel run: %v):\n%s", err, tailLines(string(b), 15))
			}
			return fmt.Errorf("keel run ended before the app started (%v):\n%s", err, tailLines(string(b), 15))
		case <-time.After(200 * time.Millisecond):
		}
		if b, _ := os.ReadFile(logPath); strings.Contains(string(b), "] started pid ") {
			fmt.Fprintf(os.Stderr, "Started %s: %s (keel run pid %d)\n", id, image, cmd.Process.Pid)
			fmt.Fprintf(os.Stderr, "Its output: %s; stop it with 'keel kill %s'\n", logPath, id)
			fmt.Println(id)
			return nil
		}
	}
	cmd.Process.Signal(os.Interrupt)
	return fmt.Errorf("the app did not start within 5 minutes; see %s", logPath)
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// register records this detached run for keel ps; the returned func
// removes the record.
func registerInstance(id, image string, ports []string) func() {
	dir, err := instancesDir()
	if err != nil {
		return func() {}
	}
	in := instance{ID: id, Image: image, PID: os.Getpid(), Run: keelRunID(), Ports: ports, Started: time.Now().UTC(), Log: filepath.Join(dir, id+".log")}
	b, _ := json.MarshalIndent(in, "", "  ")
	p := filepath.Join(dir, id+".json")
	if err := fsutil.WriteFileAtomic(p, b, 0o600); err != nil {
		fmt.Fprintf(os.Stderr, "keel run: record instance %s: %v\n", id, err)
	}
	return func() { os.Remove(p) }
}

// liveInstances lists the recorded instances whose keel run still runs,
// removing the records of those that died without cleaning up.
func liveInstances() ([]instance, error) {
	dir, err := instancesDir()
	if err != nil {
		return nil, err
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	var out []instance
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var in instance
		if json.Unmarshal(b, &in) != nil || in.PID <= 0 || !in.alive() {
			os.Remove(f)
			continue
		}
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out, nil
}

// alive tells whether the keel run that owns the VM still runs.
func (in instance) alive() bool {
	if in.Run != "" {
		return runAlive(in.Run)
	}
	return isKeelRun(in.PID)
}

// isKeelRun tells whether pid is a running `keel run`, for records made
// before start times were (a recorded pid may have been reused since).
func isKeelRun(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(string(b), "\x00")
	return len(args) > 1 && args[1] == "run" && strings.Contains(filepath.Base(args[0]), "keel")
}

func runPs(args []string) error {
	if _, ok := awsEnv(args); ok {
		return runPsAWS(args) // keel's EC2 instances (deploy.go)
	}
	fs := newFlags("ps", "ps", "Lists the VMs started with 'keel run -detach' that are still running.")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	ins, err := liveInstances()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tIMAGE\tPID\tPORTS\tUP")
	for _, in := range ins {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\n", in.ID, in.Image, in.PID, strings.Join(in.Ports, ","), time.Since(in.Started).Round(time.Second))
	}
	return w.Flush()
}

// parseKill parses the flags of keel kill and its one ID, before or after
// them; "" when none is given. what names the thing killed ("VM",
// "instance") and synopsis the command, in the error about a further
// argument.
func parseKill(fs *flag.FlagSet, args []string, what, synopsis string) (string, error) {
	id, rest := splitApp(args)
	if err := parse(fs, rest); err != nil {
		return "", err
	}
	if id == "" && fs.NArg() > 0 {
		id, rest = fs.Arg(0), fs.Args()[1:]
	} else {
		rest = fs.Args()
	}
	if len(rest) > 0 {
		return "", fmt.Errorf("unexpected argument %q: keel kill stops one %s (keel %s)", rest[0], what, synopsis)
	}
	return id, nil
}

func runKill(args []string) error {
	if _, ok := awsEnv(args); ok {
		return runKillAWS(args) // keel's EC2 instances (deploy.go)
	}
	fs := newFlags("kill", "kill [-force] ID", `
Stops a VM started with 'keel run -detach': presses its power button, so the app
gets SIGTERM and its last lines are delivered, and waits until the VM is off.
With -force the VM is killed at once (lines not yet delivered are lost).`)
	force := fs.Bool("force", false, "kill the VM at once instead of pressing the power button")
	wait := fs.Duration("wait", 60*time.Second, "how long to wait for the VM to stop")
	id, err := parseKill(fs, args, "VM", "kill [-force] ID")
	if err != nil {
		return err
	}
	if id == "" {
		return errors.New("which VM? give its ID (see keel ps)")
	}
	ins, err := liveInstances()
	if err != nil {
		return err
	}
	for _, in := range ins {
		if in.ID != id {
			continue
		}
		// keel run takes SIGINT as Ctrl-C: the first presses the power
		// button, a second kills the VM.
		syscall.Kill(in.PID, syscall.SIGINT)
		if *force {
			time.Sleep(100 * time.Millisecond)
			syscall.Kill(in.PID, syscall.SIGINT)
		}
		for deadline := time.Now().Add(*wait); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if !in.alive() {
				fmt.Fprintf(os.Stderr, "%s stopped; its output: %s\n", id, in.Log)
				return nil
			}
		}
		return fmt.Errorf("%s is still stopping after %v; 'keel kill -force %s' kills it", id, *wait, id)
	}
	return fmt.Errorf("no running VM %q (see keel ps)", id)
}
