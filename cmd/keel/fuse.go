package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/debpkg"
	keelimage "github.com/keelvm/keel/image"
	"github.com/keelvm/keel/image/disk"
	"github.com/keelvm/keel/image/efi"
	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/image/store"
	"github.com/keelvm/keel/internal/home"
)

func init() {
	register(command{name: "fuse", summary: "fuse an app into a bootable VM image", run: runFuse})
}

const fuseAbout = `
Fuses APP into a bootable image: Debian's kernel, an initramfs holding keel's
init as /init, the app, its configuration and the kernel modules of -target.
APP is a static binary, a dynamically linked ELF binary (its interpreter and
libraries are taken from this host and bundled), a directory copied to /app
whose program is -entrypoint (an ELF program, or a #! script whose interpreter
the directory holds; the libraries of every ELF file in it are bundled), or a
JAR (.jar, .war) run with java -jar and a Java runtime made with this host's
jlink. Arguments after -- are the app's arguments.

The image goes to $KEEL_HOME/images/USER/APP/VERSION (default ~/.keel) with a
manifest.json listing every file and checksum: vmlinuz and initrd.img for direct
kernel boot (QEMU, Firecracker), plus GPT disk images with systemd-boot for
-target virtualbox (disk.vdi, disk.vmdk, disk.raw) and aws (disk.raw).
Fusing the same inputs twice gives the same bytes.

Examples:
    keel fuse ./hello -name alice/hello:1.0 -env GREETING=hi -- -port 8080
    keel run alice/hello:1.0 -port 8080:8080 -logs.tail
    keel fuse app.jar -name alice/shop:1.0
    keel fuse ./py -entrypoint bin/python3 -name alice/api:1.0 -- /app/server.py`

type fuseFlags struct {
	name, target, logsType, logsGroup, logsStream, logsRegion, logsEndpoint, logsFormat string
	user, restart, dir, entrypoint, kernel, init, certs, args, formats, multiline, jre  string
	logsCredentials                                                                     string
	env                                                                                 stringList
	retention, eventMax                                                                 int
	force, verbose                                                                      bool
}

func runFuse(args []string) error {
	fs := newFlags("fuse", "fuse APP -name user/app:version [-target qemu|virtualbox|aws] [-env K=V ...] [flags] [-- ARGS...]", fuseAbout)
	var f fuseFlags
	fs.StringVar(&f.name, "name", "", "image `name`: user/app:version (required)")
	fs.StringVar(&f.target, "target", "qemu", "where the image runs: qemu (kernel+initrd), virtualbox or aws (also a bootable disk)")
	fs.StringVar(&f.formats, "format", "", "disk `formats` for virtualbox and aws, comma-separated: raw, vmdk, vdi (default: vdi,vmdk,raw for virtualbox, raw for aws)")
	fs.StringVar(&f.logsType, "logs.type", "cloudwatch-logs", "where the app's logs go: cloudwatch-logs (shipped, and on the console), console (console only) or none")
	fs.StringVar(&f.logsGroup, "logs.group", "keel/dev", "log `group` (keel run replaces it with keel/ENV)")
	fs.StringVar(&f.logsStream, "logs.stream", "", "log `stream` (default user/app; the boot log goes to STREAM/boot)")
	fs.StringVar(&f.logsRegion, "logs.region", "", "AWS `region` of the logs (default: the instance's region, else us-east-1)")
	fs.StringVar(&f.logsEndpoint, "logs.endpoint", "", "CloudWatch Logs endpoint `URL` (default: AWS's; keel run points it at the local server)")
	fs.StringVar(&f.logsFormat, "logs.format", "json", "event `format`: json or text")
	fs.StringVar(&f.logsCredentials, "logs.credentials", "", "put the [default] key of this shared-credentials `file` (a scoped key from 'keel logserver key create'; other profiles are not copied, session credentials are refused) into the image, root-only: for hypervisors without IMDS such as VirtualBox; on EC2 and under keel run the instance role's credentials come through IMDS")
	fs.IntVar(&f.retention, "logs.retention", 0, "retention in `days` when the image creates its log group (0: never expire)")
	fs.StringVar(&f.multiline, "logs.multiline", "auto", "stack traces as one event: auto (Java, Python, Go, Node.js, Ruby), off, or a `regexp` matching the first line of an event (image key keel.logs.multiline)")
	fs.IntVar(&f.eventMax, "logs.event.max", bootcfg.MaxEvent, "largest event in `bytes`; longer lines are split into marked parts (image key keel.logs.event.max)")
	fs.Var(&f.env, "env", "environment variable `K=V` of the app (repeatable)")
	fs.StringVar(&f.args, "args", "", "the app's `arguments`, space-separated (or give them after --)")
	fs.StringVar(&f.user, "user", bootcfg.DefaultUser, "`uid` (or name in the image's /etc/passwd) the app runs as")
	fs.StringVar(&f.restart, "restart", "never", "restart `policy`: never (the machine powers off when the app ends), on-failure or always")
	fs.StringVar(&f.dir, "dir", "/app", "working `directory` of the app in the image")
	fs.StringVar(&f.entrypoint, "entrypoint", "", "with a directory APP: the `program` to run, relative to the directory")
	fs.StringVar(&f.kernel, "kernel", kernel.DefaultPackage, "Debian kernel `package` to fetch with apt-get download, or a directory holding boot/vmlinuz-V and lib/modules/V")
	fs.StringVar(&f.init, "init", "", "keel's init `binary` (default: keel-init beside this keel, or $KEEL_INIT)")
	fs.StringVar(&f.certs, "certs", "auto", "add this host's CA certificates: auto (when the app uses TLS), yes or no")
	fs.BoolVar(&f.force, "force", false, "replace an existing image of the same version")
	fs.BoolVar(&f.verbose, "v", false, "list every file added from this host (libraries, interpreters) and why")
	fs.StringVar(&f.jre, "jre", "", "with a JAR: the Java runtime `directory` to bundle (default: one made with this host's jlink, with the modules jdeps finds)")
	place := addPlaceFlags(fs)
	app, rest := splitApp(args)
	var appArgs []string
	if i := indexOf(rest, "--"); i >= 0 {
		rest, appArgs = rest[:i], rest[i+1:]
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		if app != "" || fs.NArg() > 1 {
			return fmt.Errorf("unexpected arguments %q: give one APP, and the app's arguments after --", fs.Args())
		}
		app = fs.Arg(0)
	}
	if app == "" {
		return errors.New("which app? give the path of a binary or directory: keel fuse ./hello -name alice/hello:1.0")
	}
	if f.name == "" {
		return errors.New("-name is required: name the image user/app:version, for example -name alice/hello:1.0")
	}
	ref, err := store.ParseRef(f.name)
	if err != nil {
		return err
	}
	if f.args != "" {
		if len(appArgs) > 0 {
			return errors.New("give the app's arguments either with -args or after --, not both")
		}
		appArgs = strings.Fields(f.args)
	}
	for _, kv := range f.env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return fmt.Errorf("-env %q: write NAME=VALUE", kv)
		}
	}
	switch f.restart {
	case "never", "on-failure", "always":
	default:
		return fmt.Errorf("-restart=%q: use never, on-failure or always", f.restart)
	}
	if _, ok := keelimage.Targets[f.target]; !ok {
		return fmt.Errorf("-target=%q: use qemu, virtualbox or aws", f.target)
	}
	var logsCfg *bootcfg.Logs
	switch f.logsType {
	case "cloudwatch-logs":
		if f.logsFormat != "json" && f.logsFormat != "text" {
			return fmt.Errorf("-logs.format=%q: use json or text", f.logsFormat)
		}
		if err := bootcfg.CheckRetentionDays(f.retention); err != nil {
			return fmt.Errorf("-logs.retention: %w", err)
		}
		if err := bootcfg.CheckMultiline(f.multiline); err != nil {
			return fmt.Errorf("-logs.multiline: multiline %q: %w", f.multiline, err)
		}
		if err := bootcfg.CheckEventMax(f.eventMax); err != nil {
			return fmt.Errorf("-logs.event.max=%w", err)
		}
		multiline, eventMax := f.multiline, f.eventMax
		if multiline == "auto" {
			multiline = "" // the default: the image's configuration stays as it was
		}
		if eventMax == bootcfg.MaxEvent {
			eventMax = 0
		}
		stream := f.logsStream
		if stream == "" {
			stream = ref.Stream()
		}
		logsCfg = &bootcfg.Logs{Group: f.logsGroup, Stream: stream, Region: f.logsRegion, Endpoint: f.logsEndpoint,
			Format: f.logsFormat, Image: ref.String(), Retention: int32(f.retention), Multiline: multiline, EventMax: eventMax}
	case "console", "none":
	default:
		return fmt.Errorf("-logs.type=%q: use cloudwatch-logs, console or none", f.logsType)
	}
	var keyFile []byte
	if f.logsCredentials != "" {
		if logsCfg == nil {
			return fmt.Errorf("-logs.credentials with -logs.type=%s: an image that ships no logs needs no key", f.logsType)
		}
		if keyFile, err = readKeyFile(f.logsCredentials); err != nil {
			return err
		}
	}
	initBin, err := findInit(f.init)
	if err != nil {
		return err
	}
	images, err := home.Path("images")
	if err != nil {
		return err
	}
	disk, err := diskWriter(f.target, f.formats)
	if err != nil {
		return err
	}
	// Stopped by a signal, fuse leaves nothing half-written (deferred
	// cleanups do not run then).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	go func() {
		if _, ok := <-sigs; ok {
			if store.AbortAll()+debpkg.AbortAll() > 0 {
				fmt.Fprintln(os.Stderr, "keel fuse: stopped; what was being written is removed")
			} else {
				fmt.Fprintln(os.Stderr, "keel fuse: stopped")
			}
			os.Exit(130)
		}
	}()
	fmt.Fprintf(os.Stderr, "Fusing %s for %s from %s\n", ref, f.target, app)
	fu := keelimage.Fuse{App: app, Entrypoint: f.entrypoint, Ref: ref, Args: appArgs, Env: f.env, Dir: f.dir,
		User: f.user, Restart: f.restart, Logs: logsCfg, Target: f.target, Init: initBin,
		Certs: f.certs, Disk: disk, Force: f.force, Store: store.Store{Dir: images}, Progress: os.Stderr,
		Verbose: f.verbose, JRE: f.jre, Credentials: keyFile}
	if fu.Runtimes, err = home.Path("runtimes"); err != nil {
		return err
	}
	place.apply(&fu)
	// The app and the configuration first: a mistake there is reported at
	// once, not after a kernel download.
	if err := fu.Check(); err != nil {
		return err
	}
	fu.Kernel, err = ensureKernel(f.kernel)
	if err != nil {
		return err
	}
	m, err := fu.Write()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "  app      %s, %s\n", m.App.Path, m.App.Kind)
	for _, a := range m.Artifacts {
		fmt.Fprintf(os.Stderr, "  %-8s %.1f MB\n", a.Name, float64(a.Size)/1e6)
	}
	if keyFile != nil {
		fmt.Fprintf(os.Stderr, "  key      %s (root-only), the [default] key of %s: the image ships its logs with it, before any instance role\n", bootcfg.DefaultCredentials, f.logsCredentials)
	}
	fmt.Fprintf(os.Stderr, "Run it: keel run %s\n", ref)
	return nil
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// ensureKernel returns the kernel named by -kernel: a directory, or a
// Debian package fetched into the cache.
func ensureKernel(spec string) (*kernel.Kernel, error) {
	if fi, err := os.Stat(spec); err == nil && fi.IsDir() {
		return kernel.Local(spec)
	}
	if strings.ContainsRune(spec, os.PathSeparator) {
		return nil, fmt.Errorf("-kernel %s: no such directory", spec)
	}
	cache, err := home.Path("kernels")
	if err != nil {
		return nil, err
	}
	return kernel.Ensure(cache, spec, os.Stderr)
}

// findInit locates keel's init binary: the flag, $KEEL_INIT, or keel-init
// beside this executable (where make build puts it).
func findInit(flagged string) (string, error) {
	for _, p := range []string{flagged, os.Getenv("KEEL_INIT")} {
		if p != "" {
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("keel's init binary: %w", err)
			}
			return p, nil
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find keel's own executable: %w", err)
	}
	p := filepath.Join(filepath.Dir(exe), "keel-init")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("keel's init binary is not beside keel (%s): build it with 'make build', or give -init PATH", p)
	}
	return p, nil
}

// diskWriter returns what writes the disk images of a target: GPT with
// systemd-boot (fetched with apt-get download on first use) in each format.
func diskWriter(target, formats string) (func(kernel, initrd, cmdline, dir string) error, error) {
	if target == "qemu" {
		if formats != "" {
			return nil, errors.New("-format is for disk images: give -target virtualbox or aws")
		}
		return nil, nil
	}
	if formats == "" {
		formats = map[string]string{"virtualbox": "vdi,vmdk,raw", "aws": "raw"}[target]
	}
	var fmts []disk.Format
	for _, f := range strings.Split(formats, ",") {
		f = strings.TrimSpace(f) // "vdi, raw"
		if !slices.Contains(disk.Formats, disk.Format(f)) {
			return nil, fmt.Errorf("-format %q: use raw, vmdk or vdi, comma-separated", f)
		}
		fmts = append(fmts, disk.Format(f))
	}
	cache, err := home.Path("efi")
	if err != nil {
		return nil, err
	}
	return func(kernel, initrd, cmdline, dir string) error {
		loader, err := efi.Ensure(cache, os.Stderr)
		if err != nil {
			return err
		}
		spec := disk.Spec{Kernel: kernel, Initrd: initrd, Cmdline: cmdline, BootEFI: loader.Path, AppDisk: appDiskIn(dir)}
		for _, f := range fmts {
			size, err := disk.Write(spec, filepath.Join(dir, "disk."+string(f)), f)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "  disk     disk.%s %.1f MB (GPT, systemd-boot %s)\n", f, float64(size)/1e6, loader.Version)
		}
		return nil
	}, nil
}
