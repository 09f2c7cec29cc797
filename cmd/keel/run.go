package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/iampolicy"
	"github.com/keelvm/keel/image/store"
	"github.com/keelvm/keel/imds"
	"github.com/keelvm/keel/internal/home"
	"github.com/keelvm/keel/internal/qemu"
	"github.com/keelvm/keel/logs"
	"github.com/keelvm/keel/logserver"
	"github.com/keelvm/keel/logserver/auth"
)

func init() {
	register(command{name: "run", summary: "boot an image under QEMU with the local log server, and show its logs", run: runRun})
}

const runAbout = `
Boots a fused image under QEMU (KVM when /dev/kvm is usable, else software
emulation) as its target's machine boots it (qemu: kernel and initramfs, a
virtio NIC; virtualbox: UEFI from disk.vdi on SATA, an e1000 NIC; aws: UEFI
from disk.raw on NVMe, a virtio NIC), with its logs going to keel's local
CloudWatch Logs server: the server is started in the background if it is not
running, and log group keel/ENV and stream user/app are created.

The VM gets what an EC2 instance gets, the same way: an instance metadata
service (IMDSv2) at 169.254.169.254 with its instance id, its region, its user
data (the log server's endpoint, the group of -env, and every -set
keel.KEY=VALUE) and its instance role's credentials: session credentials
that may only create and write its own log streams, expire (-session.ttl,
default 1h) and are rotated before they do, and are revoked when it stops. The
image's own files are booted unchanged: no key is put into it.

The guest reaches nothing but the log server and the metadata service (QEMU
user networking with restrict=on); -port makes a guest port reachable on the
host's loopback. keel run shows the boot, then the app's output from the serial
console, or with -logs.tail the app's events as the log server received them.

Ctrl-C presses the VM's power button and waits for the orderly shutdown (the
app gets SIGTERM, its last lines are delivered); a second Ctrl-C kills the VM.
keel run exits with the app's exit status. With -detach it returns once the app
has started; 'keel ps' lists such VMs and 'keel kill ID' stops them.`

type runFlags struct {
	env           string
	tail, console bool
	detach        bool
	cpus, memory  int
	ports         stringList
	sets          stringList    // -set keel.KEY=VALUE: user data
	sessionTTL    time.Duration // the VM's session credentials' life
}

func runRun(args []string) error {
	if _, ok := awsEnv(args); ok {
		return runDeploy(args) // -env other than dev: EC2 (deploy.go)
	}
	fs := newFlags("run", "run user/app:version [-env dev] [-logs.tail] [-port HOST:GUEST ...] [-cpus N] [-memory MB]", runAbout)
	var f runFlags
	fs.StringVar(&f.env, "env", "dev", "`environment`: the app logs to group keel/ENV of the local log server")
	fs.BoolVar(&f.tail, "logs.tail", false, "show the app's events live from the log server instead of its console output")
	fs.BoolVar(&f.console, "console", false, "show the whole serial console (kernel messages too)")
	fs.IntVar(&f.cpus, "cpus", 1, "virtual `CPUs`")
	fs.IntVar(&f.memory, "memory", 0, "memory in `MB` (default: what the image needs, from its manifest)")
	fs.BoolVar(&f.detach, "detach", false, "run in the background: return once the app has started (see keel ps, keel kill)")
	fs.Var(&f.ports, "port", "make guest port GUEST reachable at 127.0.0.1:HOST (`HOST:GUEST`, or PORT for both; repeatable)")
	fs.Var(&f.sets, "set", "a launch-time setting `keel.KEY=VALUE` passed in the VM's user data, over the image's (repeatable)")
	fs.DurationVar(&f.sessionTTL, "session.ttl", DefaultSessionTTL, "life of the VM's session credentials (rotated at half of it)")
	name, rest := splitApp(args)
	if err := parse(fs, rest); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		if name != "" || fs.NArg() > 1 {
			return fmt.Errorf("unexpected arguments %q: give one image, user/app:version", fs.Args())
		}
		name = fs.Arg(0)
	}
	if name == "" {
		return errors.New("which image? give user/app:version (fuse one with 'keel fuse')")
	}
	if f.env == "" || strings.ContainsAny(f.env, " /:*") {
		return fmt.Errorf("-env=%q: an environment is a simple name such as dev", f.env)
	}
	if f.cpus < 1 || (f.memory != 0 && f.memory < 128) {
		return fmt.Errorf("-cpus %d -memory %d: give at least 1 CPU and 128 MB", f.cpus, f.memory)
	}
	for _, v := range f.sets {
		if err := checkSet(v); err != nil {
			return err
		}
	}
	if f.sessionTTL < 10*time.Second || f.sessionTTL > auth.MaxSessionTTL {
		return fmt.Errorf("-session.ttl %v: give 10s to %v", f.sessionTTL, auth.MaxSessionTTL)
	}
	fwds, err := parsePorts(f.ports)
	if err != nil {
		return err
	}
	ref, err := store.ParseRef(name)
	if err != nil {
		return err
	}
	if f.detach && f.tail {
		return errors.New("-logs.tail shows logs in the terminal, -detach leaves it: follow a detached VM with 'keel logs APP -logs.tail'")
	}
	images, err := home.Path("images")
	if err != nil {
		return err
	}
	st := store.Store{Dir: images}
	m, err := st.Load(ref)
	if err != nil {
		return err
	}
	machine, err := targetMachine(st.Path(ref), m.Target)
	if err != nil {
		return fmt.Errorf("image %s: %w", ref, err)
	}
	if err := st.Verify(ref, m, machine.files...); err != nil {
		return err
	}
	if f.memory, err = memoryFor(m, f.memory); err != nil {
		return err
	}
	appDisk, err := appDiskOf(st, ref, m)
	if err != nil {
		return err
	}
	if err := qemu.Available(); err != nil {
		return err
	}
	// What the VM gets at launch, checked now: a -set the image would
	// refuse at boot is the user's to hear before it boots.
	launch, err := launchConfig(m.Config, f)
	if err != nil {
		return err
	}
	// Checked before detaching: a missing image is the user's to hear
	// now, not in a log file of a run that never was.
	if f.detach && os.Getenv(instanceEnv) == "" {
		return detach(args, ref.String())
	}
	instanceID := os.Getenv(instanceEnv)
	if instanceID != "" {
		defer registerInstance(instanceID, ref.String(), f.ports)()
	} else {
		instanceID = newInstanceID()
	}
	dir, err := os.MkdirTemp("", "keel-run-")
	if err != nil {
		return fmt.Errorf("create run directory: %w", err)
	}
	defer os.RemoveAll(dir)

	// From here on keel run holds a key and temp files: every way it is
	// asked to stop goes through its cleanup. SIGPIPE (a closed pipe on
	// stdout, as with | head) must not kill it either.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	signal.Ignore(syscall.SIGPIPE)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	booting := make(chan struct{})
	go func() { // before the VM runs, a signal cancels the setup
		select {
		case <-sigs:
			cancel()
		case <-booting:
		}
	}()
	r := &runner{flags: f, ref: ref, manifest: m, stdout: os.Stdout, stderr: os.Stderr, sigs: sigs, booting: booting, instance: instanceID}
	cfg := machine.cfg
	cfg.Cmdline, cfg.MemoryMB, cfg.CPUs, cfg.HostForwards, cfg.Dir, cfg.Console = m.Cmdline, f.memory, f.cpus, fwds, dir, r.consoleWriter()
	if appDisk != "" {
		cfg.AppDisk, cfg.AppDiskSerial = appDisk, m.Config.AppDisk.Serial
	}
	// The run's id is the instance id its IMDS serves: the events'
	// "instance", and the id keel ps shows.
	md := &imds.Server{InstanceID: instanceID, Region: localRegion, Account: localAccount}
	if launch.Logs != nil {
		cleanup, err := r.setupLogs(ctx, launch.Logs, md, &cfg)
		if cleanup != nil {
			defer cleanup()
		}
		if err != nil {
			return err
		}
	} else if len(f.sets) > 0 {
		md.UserData = userData("", "", f.sets)
	}
	imdsAddr, stopIMDS, err := serveIMDS(md)
	if err != nil {
		return err
	}
	defer stopIMDS()
	cfg.IMDS = imdsAddr
	return r.boot(ctx, cfg)
}

// parsePorts reads -port values.
func parsePorts(vals []string) ([]qemu.HostForward, error) {
	var out []qemu.HostForward
	for _, v := range vals {
		h, g, ok := strings.Cut(v, ":")
		if !ok {
			g = h
		}
		hp, err1 := strconv.Atoi(h)
		gp, err2 := strconv.Atoi(g)
		if err1 != nil || err2 != nil || hp < 1 || hp > 65535 || gp < 1 || gp > 65535 {
			return nil, fmt.Errorf("-port %q: write HOST:GUEST (for example 8080:8080) or one PORT for both", v)
		}
		out = append(out, qemu.HostForward{Host: hp, Guest: gp})
	}
	return out, nil
}

// runner is one `keel run`.
type runner struct {
	flags          runFlags
	ref            store.Ref
	manifest       store.Manifest
	stdout, stderr io.Writer

	client *cwl.Client
	group  string
	stream string
	start  time.Time

	mu     sync.Mutex
	status int // the app's, from init's last words; -1 until known
	seen   bool

	sigs    chan os.Signal
	booting chan struct{} // closed when boot takes the signals over
	// instance is this run's id (the events' "instance").
	instance string
	// console returns what the VM printed, for its last lines when it
	// stops without an orderly power-off.
	console func() string
	// lastEvent is when -logs.tail last showed an event.
	lastEvent time.Time
}

// guestLogPort is where the guest reaches the log server
// (qemu.LinkLocalServiceAddr).
const guestLogPort = 4566

// guestLogEndpoint is the log server's endpoint as the guest sees it.
var guestLogEndpoint = fmt.Sprintf("http://%s:%d", qemu.LinkLocalServiceAddr, guestLogPort)

// setupLogs makes sure the local log server runs, creates the group and
// stream, and makes the VM's instance role: session credentials limited to
// its group and stream, served by md with the user data that points the
// image at the server. The image itself is booted unchanged.
func (r *runner) setupLogs(ctx context.Context, lc *bootcfg.Logs, md *imds.Server, cfg *qemu.Config) (cleanup func(), err error) {
	data, err := home.Path("logserver")
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find keel's own executable: %w", err)
	}
	srv, started, err := logserver.StartDaemon(logserver.DaemonConfig{DataDir: data,
		Command: []string{exe, "logserver", "-addr", serverAddr(), "-data", data}})
	if err != nil {
		return nil, err
	}
	if started {
		fmt.Fprintf(r.stderr, "Started the local log server at %s (stop it with 'keel logserver stop')\n", srv.Endpoint)
	}
	if srv.Auth == "none" {
		return nil, fmt.Errorf("the log server on %s runs with -auth=none; keel run gives VMs scoped session credentials: restart it with SigV4 ('keel logserver stop', then run again)", data)
	}
	kr, _, err := auth.OpenKeyring(data)
	if err != nil {
		return nil, err
	}
	if r.client, err = logs.AdminClient(data, srv.Endpoint); err != nil {
		return nil, err
	}
	r.group, r.stream = lc.Group, lc.Stream
	if err := r.createLogs(ctx, lc.Retention); err != nil {
		return nil, err
	}
	revokeStale(kr, r.stderr)
	policy := iampolicy.ShipOwnLogs(localPartition, localRegion, localAccount, r.group, r.stream)
	name := fmt.Sprintf("%s%s-%s-%s", vmKeyPrefix, keelRunID(), r.ref.User, r.ref.App)
	sess, err := startSessions(kr, policy, r.flags.sessionTTL, name[:min(len(name), 56)])
	if err != nil {
		return nil, err
	}
	cleanup = func() {
		if err := sess.close(); err != nil {
			fmt.Fprintf(r.stderr, "keel run: revoke the VM's session credentials: %v (they expire by themselves within %v)\n", err, r.flags.sessionTTL)
		}
	}
	md.Role, md.Credentials = runRole, sess.credentials
	md.UserData = userData(guestLogEndpoint, "keel/"+r.flags.env, r.flags.sets)
	cfg.Forwards = []qemu.Forward{{Port: guestLogPort, Host: strings.TrimPrefix(srv.Endpoint, "http://")}}
	return cleanup, nil
}

// serverAddr is where keel run starts the log server: the default port,
// so that a server restarted later listens where running VMs forward to,
// or any free port when another program has it.
func serverAddr() string {
	l, err := net.Listen("tcp", logserver.DefaultAddr)
	if err != nil {
		return "127.0.0.1:0"
	}
	l.Close()
	return logserver.DefaultAddr
}

// vmKeyPrefix starts the names of the keys keel run issues, followed by
// the issuing keel run's id (keelRunID).
const vmKeyPrefix = "vm-run-"

// revokeStale deletes the keys of keel runs that ended without revoking
// theirs (killed with SIGKILL, or the machine went down).
func revokeStale(kr *auth.Keyring, w io.Writer) {
	for _, k := range kr.List() {
		rest, ok := strings.CutPrefix(k.Name, vmKeyPrefix)
		if !ok {
			continue
		}
		runID, _, _ := strings.Cut(rest, "-")
		pidText, _, _ := strings.Cut(runID, ".")
		if pid, err := strconv.Atoi(pidText); err != nil || pid <= 0 || runAlive(runID) {
			continue
		}
		if err := kr.Delete(k.ID); err == nil {
			fmt.Fprintf(w, "Revoked key %s of a keel run that ended without revoking it (pid %s)\n", k.Name, pidText)
		}
	}
}

// createLogs creates the group and the stream, saying so as it does.
func (r *runner) createLogs(ctx context.Context, retention int32) error {
	var exists *types.ResourceAlreadyExistsException
	fmt.Fprintf(r.stderr, "Creating Log Group %s ... ", r.group)
	_, err := r.client.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(r.group)})
	switch {
	case errors.As(err, &exists):
		fmt.Fprintln(r.stderr, "exists")
	case err != nil:
		fmt.Fprintln(r.stderr)
		return fmt.Errorf("create log group %s: %w", r.group, err)
	default:
		fmt.Fprintln(r.stderr, "done")
		if retention > 0 {
			if _, err := r.client.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String(r.group), RetentionInDays: aws.Int32(retention)}); err != nil {
				return fmt.Errorf("set retention of %s: %w", r.group, err)
			}
		}
	}
	fmt.Fprintf(r.stderr, "Creating Log Stream %s > %s ... ", r.group, r.stream)
	_, err = r.client.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(r.group), LogStreamName: aws.String(r.stream)})
	switch {
	case errors.As(err, &exists):
		fmt.Fprintln(r.stderr, "exists")
	case err != nil:
		fmt.Fprintln(r.stderr)
		return fmt.Errorf("create log stream %s > %s: %w", r.group, r.stream, err)
	default:
		fmt.Fprintln(r.stderr, "done")
	}
	return nil
}

// boot runs the VM to its end and returns the app's exit status.
func (r *runner) boot(ctx context.Context, cfg qemu.Config) error {
	r.status = -1
	r.start = time.Now()
	if ctx.Err() != nil {
		return errors.New("stopped before the VM started")
	}
	close(r.booting)
	sigs := r.sigs
	accel, note, err := qemu.ChooseAccel()
	if err != nil {
		return err
	}
	cfg.Accel = accel
	fmt.Fprintf(r.stderr, "Booting %s as instance %s (%s, %d CPU, %d MB)", r.ref, r.instance, cfg.Accel, cfg.CPUs, cfg.MemoryMB)
	for _, f := range cfg.HostForwards {
		fmt.Fprintf(r.stderr, ", port 127.0.0.1:%d -> %d", f.Host, f.Guest)
	}
	fmt.Fprintln(r.stderr)
	if note != "" {
		fmt.Fprintf(r.stderr, "  (%s: %s)\n", accel, note)
	}
	vm, err := qemu.Start(cfg)
	if err != nil {
		return err
	}
	defer vm.Kill()
	r.console = vm.Console
	tailDone := make(chan struct{})
	tailCtx, stopTail := context.WithCancel(ctx)
	defer stopTail()
	if r.flags.tail && r.client != nil {
		go r.follow(tailCtx, tailDone)
	} else {
		close(tailDone)
	}
	exited := make(chan error, 1)
	go func() { exited <- vm.Wait(context.Background()) }()
	presses := 0
	// A press before the guest has loaded its button driver is lost (the
	// ACPI event has no listener yet): press again until the VM stops.
	var repress <-chan time.Time
	for {
		select {
		case <-sigs:
			presses++
			if presses == 1 {
				fmt.Fprintln(r.stderr, "\nPressing the power button: the app gets SIGTERM and its last lines are delivered (Ctrl-C again to kill the VM)")
				r.press(vm)
				t := time.NewTicker(3 * time.Second)
				defer t.Stop()
				repress = t.C
				continue
			}
			fmt.Fprintln(r.stderr, "\nKilling the VM: lines not yet delivered are lost")
			vm.Kill()
		case <-repress:
			r.press(vm)
		case err := <-exited:
			r.drainTail(stopTail, tailDone)
			return r.result(err, presses > 1)
		}
	}
}

// press presses the power button; a press that fails (QEMU not ready
// yet, or exiting) is retried on the next tick.
func (r *runner) press(vm *qemu.VM) {
	if err := vm.PowerButton(); err != nil {
		select {
		case <-vm.Done():
			return // it stopped meanwhile
		default:
		}
		fmt.Fprintf(r.stderr, "keel run: %v; trying again (Ctrl-C again kills the VM)\n", err)
	}
}

// result turns the VM's end into keel run's.
func (r *runner) result(waitErr error, killed bool) error {
	r.mu.Lock()
	status, seen := r.status, r.seen
	r.mu.Unlock()
	switch {
	case killed:
		return &exitError{code: 130, err: errors.New("the VM was killed")}
	case !seen:
		return r.disorderly(waitErr)
	case status != 0:
		return &exitError{code: status, err: fmt.Errorf("%s stopped: the app's exit status was %d", r.ref, status)}
	}
	fmt.Fprintf(r.stderr, "%s stopped: the app exited with status 0\n", r.ref)
	return nil
}

// follow shows the app's events from the log server as they arrive.
func (r *runner) follow(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	src := &logs.Source{Client: r.client, Group: r.group, Streams: []string{r.stream},
		Notice: func(msg string) { fmt.Fprintf(r.stderr, "keel run: %s\n", msg) }}
	out := &logs.Formatter{W: r.stdout, Format: "text", Color: isTerminal(os.Stdout)}
	err := src.Follow(ctx, r.start.Add(-time.Second), func(e logs.Event) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.lastEvent = time.Now()
		return out.Write(e)
	})
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(r.stderr, "keel run: following the logs: %v\n", err)
	}
}

// drainTail lets the live tail show the events the VM delivered just before
// it powered off (init flushes before it powers off), then stops it. A live
// tail reports once a second: wait two reports, then until a second passes
// without an event, at most 6 s.
func (r *runner) drainTail(stop context.CancelFunc, done <-chan struct{}) {
	exited := time.Now()
	for time.Since(exited) < 6*time.Second {
		select {
		case <-done:
			return
		case <-time.After(200 * time.Millisecond):
		}
		r.mu.Lock()
		quiet := time.Since(r.lastEvent) > time.Second
		r.mu.Unlock()
		if quiet && time.Since(exited) > 2200*time.Millisecond {
			break
		}
	}
	stop()
	<-done
}

// statusRe reads init's last words; anchored, so that an app printing the
// same text cannot fake its status.
var statusRe = regexp.MustCompile(`^keel init \[[ 0-9.]+s\] powering off \(status (\d+)\)`)

// consoleWriter sorts the serial console's lines: init's steps show the
// boot; the app's lines are its output (unless -logs.tail shows them from
// the server); the kernel's only with -console.
func (r *runner) consoleWriter() io.Writer {
	return &lineWriter{fn: func(line string) {
		line = strings.TrimRight(line, "\r")
		if m := statusRe.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			r.mu.Lock()
			r.status, r.seen = n, true
			r.mu.Unlock()
		}
		switch {
		case r.flags.console:
			fmt.Fprintln(r.stdout, line)
		case strings.HasPrefix(line, "keel init ["), strings.HasPrefix(line, qemu.Binary+":"):
			fmt.Fprintln(r.stderr, line)
		case strings.HasPrefix(line, "INFO ") || strings.HasPrefix(line, "ERROR "):
			if !r.flags.tail || r.client == nil {
				fmt.Fprintln(r.stdout, line)
			}
		}
	}}
}

// lineWriter calls fn for each complete line written to it.
type lineWriter struct {
	buf []byte
	fn  func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.fn(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 64<<10 { // a console line that never ends
		w.fn(string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(p), nil
}
