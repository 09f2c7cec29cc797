package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/keelvm/keel/deploy"
	"github.com/keelvm/keel/image/store"
	"github.com/keelvm/keel/internal/home"
	"github.com/keelvm/keel/logs"
)

// awsEnv finds -env in args: an environment other than dev means AWS.
func awsEnv(args []string) (string, bool) {
	for i, a := range args {
		a = strings.TrimPrefix(a, "-")
		if v, ok := strings.CutPrefix(a, "-env="); ok {
			return v, v != "dev"
		}
		if v, ok := strings.CutPrefix(a, "env="); ok {
			return v, v != "dev"
		}
		if (a == "env" || a == "-env") && i+1 < len(args) {
			return args[i+1], args[i+1] != "dev"
		}
	}
	return "", false
}

const deployAbout = `
With -env ENV other than dev, keel run deploys the image to EC2 (region and
credentials from the standard AWS configuration: profile, environment, SSO;
-region overrides). In order, each step said in one line and each reusing what
exists: log group keel/ENV (with -logs.retention) and stream USER/APP; IAM role
and instance profile keel-ENV-USER+APP whose one inline policy allows only
logs:CreateLogStream and logs:PutLogEvents on that stream; an AMI of the image's
disk.raw (fused with -target aws), uploaded once through the EBS direct APIs
(all-zero blocks skipped) and found by its sha256 afterwards; a security group
with no ingress unless -port opens some; the instance (IMDSv2 only), whose user
data carries the launch's keel.* settings. Then it follows the app's logs from
CloudWatch until Ctrl-C (the instance keeps running); -detach returns once it
runs. 'keel ps -env ENV' lists the instances, 'keel kill -env ENV ID' stops one.
Ctrl-C during the upload deletes the unfinished snapshot.`

func runDeploy(args []string) error {
	fs := newFlags("run", "run user/app:version -env ENV [-region R] [-instance.type T] [-port P ...] [-set keel.KEY=VALUE ...] [-detach]", deployAbout)
	var (
		env, region, itype, role string
		retention                int
		detach                   bool
		ports, sets              stringList
	)
	fs.StringVar(&env, "env", "dev", "`environment`: anything but dev deploys to EC2")
	fs.StringVar(&region, "region", "", "AWS `region` (default: from the AWS configuration)")
	fs.StringVar(&itype, "instance.type", "t3.micro", "EC2 instance `type`")
	fs.StringVar(&role, "role", "", "use this existing IAM `role` (and its instance profile) instead of creating keel-ENV-USER+APP")
	fs.IntVar(&retention, "logs.retention", 30, "retention in `days` of a new log group keel/ENV (0: never expire)")
	fs.BoolVar(&detach, "detach", false, "return once the instance runs instead of following its logs")
	fs.Var(&ports, "port", "open TCP `PORT` of the instance to the world (repeatable; none: no ingress)")
	fs.Var(&sets, "set", "pass `keel.KEY=VALUE` to the init in the instance's user data (repeatable)")
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
		return errors.New("which image? give user/app:version (fuse one with 'keel fuse APP -name user/app:version -target aws')")
	}
	if err := deploy.CheckEnv(env); err != nil {
		return err
	}
	ref, err := store.ParseRef(name)
	if err != nil {
		return err
	}
	var openPorts []int32
	for _, p := range ports {
		_, g, _ := strings.Cut(p, ":") // HOST:GUEST as locally: EC2 has only the guest's
		if g == "" {
			g = p
		}
		n, err := strconv.Atoi(g)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("-port %q: give a TCP port number, for example 8080", p)
		}
		openPorts = append(openPorts, int32(n))
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
	var sha string
	for _, a := range m.Artifacts {
		if a.Name == "disk.raw" {
			sha = a.SHA256
		}
	}
	if sha == "" {
		src := m.App.Source
		if src == "" {
			src = "APP"
		}
		return fmt.Errorf("image %s was fused for %s and has no disk.raw to make an AMI of: fuse it for EC2 with 'keel fuse %s -name %s -target aws -force' (with the flags you fused it with)", ref, m.Target, src, ref)
	}
	if err := st.Verify(ref, m, "disk.raw"); err != nil {
		return err
	}
	cfg := m.Config
	for _, s := range sets {
		if !strings.HasPrefix(s, "keel.") || !strings.Contains(s, "=") || strings.ContainsAny(s, "\"\n") {
			return fmt.Errorf("-set %q: write keel.KEY=VALUE (one line, no double quotes), for example -set keel.env=MODE=prod", s)
		}
		if err := cfg.ApplyCmdline(`"` + s + `"`); err != nil {
			return fmt.Errorf("-set %q: %w", s, err)
		}
	}
	spec := deploy.Spec{Env: env, Image: ref.String(), User: ref.User, App: ref.App,
		Disk: filepath.Join(st.Path(ref), "disk.raw"), SHA256: sha, Role: role, InstanceType: itype,
		Ports: openPorts, Settings: sets, Terminal: isTerminal(os.Stderr)}
	if m.Config.Logs != nil {
		spec.Stream = m.Config.Logs.Stream
		if spec.Stream == "" {
			spec.Stream = ref.Stream()
		}
		if retention != 0 {
			probe := m.Config
			if err := probe.ApplyCmdline(fmt.Sprintf("keel.logs.retention=%d", retention)); err != nil {
				return fmt.Errorf("-logs.retention %d: CloudWatch Logs takes 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653 days (0: never expire)", retention)
			}
			spec.Retention = int32(retention)
		}
	}

	// Ctrl-C cancels the deployment: an upload deletes its snapshot, a
	// launch waiting for its instance terminates it.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	c, err := deploy.Connect(ctx, region)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "Deploying %s to EC2 in %s, environment %s\n", ref, c.Region, env)
	res, err := c.Deploy(ctx, os.Stderr, spec)
	if err != nil {
		if ctx.Err() != nil {
			return &exitError{code: 130, err: fmt.Errorf("interrupted: %v", err)}
		}
		return err
	}
	in := res.Instance
	fmt.Fprintf(os.Stderr, "Instance %s of %s runs in %s", in.ID, ref, env)
	if in.Address != "" {
		fmt.Fprintf(os.Stderr, " at %s", in.Address)
	}
	fmt.Fprintf(os.Stderr, "; stop it with 'keel kill -env %s %s'\n", env, in.ID)
	fmt.Println(in.ID)
	if detach || res.Stream == "" {
		return nil
	}
	fmt.Fprintf(os.Stderr, "Following %s > %s (Ctrl-C stops following; the instance keeps running)\n", res.Group, res.Stream)
	src := &logs.Source{Client: c.Logs, Group: res.Group, Streams: []string{res.Stream},
		Notice: func(msg string) { fmt.Fprintf(os.Stderr, "keel run: %s\n", msg) }}
	out := &logs.Formatter{W: os.Stdout, Format: "text", Color: isTerminal(os.Stdout)}
	if err := src.Follow(ctx, in.Launched.Add(-time.Minute), out.Write); err != nil && ctx.Err() == nil {
		return fmt.Errorf("following the logs: %w", err)
	}
	fmt.Fprintf(os.Stderr, "\nStopped following; %s keeps running: 'keel logs %s -env %s -logs.tail' follows it again, 'keel kill -env %s %s' stops it\n", in.ID, ref.Stream(), env, env, in.ID)
	return nil
}

func runPsAWS(args []string) error {
	fs := newFlags("ps", "ps -env ENV [-region R]", "Lists keel's EC2 instances in environment ENV (by their keel:env tag): id, image, state, launch time, address.")
	env := fs.String("env", "", "`environment`")
	region := fs.String("region", "", "AWS `region` (default: from the AWS configuration)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c, err := deploy.Connect(ctx, *region)
	if err != nil {
		return err
	}
	ins, err := c.List(ctx, *env)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tIMAGE\tSTATE\tLAUNCHED\tADDRESS")
	for _, in := range ins {
		addr := in.Address
		if addr == "" {
			addr = in.PrivateAddress + " (private)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", in.ID, in.Image, in.State, in.Launched.UTC().Format(time.RFC3339), addr)
	}
	return w.Flush()
}

func runKillAWS(args []string) error {
	fs := newFlags("kill", "kill -env ENV [-force] ID", `
Stops one of keel's EC2 instances in ENV and terminates it: stopping presses
its ACPI power button, so the app gets SIGTERM and the init delivers its last
lines before the machine goes off. With -force the instance is terminated at
once.`)
	env := fs.String("env", "", "`environment` of the instance")
	region := fs.String("region", "", "AWS `region` (default: from the AWS configuration)")
	force := fs.Bool("force", false, "terminate at once instead of stopping first")
	wait := fs.Duration("wait", 10*time.Minute, "how long to wait for the instance to stop, and to terminate")
	id, err := parseKill(fs, args, "instance", "kill -env ENV [-force] ID")
	if err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("which instance? give its id (see keel ps -env %s)", *env)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c, err := deploy.Connect(ctx, *region)
	if err != nil {
		return err
	}
	return c.Kill(ctx, os.Stderr, *env, id, *force, *wait)
}
