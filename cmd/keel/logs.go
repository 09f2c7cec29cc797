package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/keelvm/keel/internal/home"
	"github.com/keelvm/keel/logs"
	"github.com/keelvm/keel/logserver"
)

func init() {
	register(command{name: "logs", summary: "show and follow an app's logs, locally or on AWS", run: runLogs})
}

const logsAbout = `
Shows the logs of APP (user/app, or app for your own user) and, with -logs.tail,
follows them live. Environment ENV maps to log group keel/ENV and the app to
stream USER/APP; -boot shows the kernel and init messages of stream USER/APP/boot.
-group, -stream and -stream.prefix read any group, also logs keel did not write.

-env=dev reads keel's local log server (started by 'keel logserver -daemon' or
'keel run'), finding its address and credentials by itself. Any other env reads
AWS CloudWatch Logs with the standard AWS configuration: profile, region,
AWS_ENDPOINT_URL_CLOUDWATCH_LOGS.

Following uses StartLiveTail, or FilterLogEvents polling where the endpoint has
no live tail; no event is shown twice or skipped. Ctrl-C ends it.

-query runs a Logs Insights query instead (StartQuery, then GetQueryResults),
the same against the local server as against AWS: over group keel/ENV, or the
groups of -group (comma-separated), from -since to -until; with APP only over
its stream. A terminal shows the records scanned while it runs, then an aligned
table; -format json prints one object per row. For example:
  keel logs hello -query 'filter level = "ERROR" | stats count(*) by bin(5m)'
  keel logs -group keel/prod -query 'stats pct(latency, 99) by service'`

type logsFlags struct {
	env, since, until, filter, format, instance, level string
	query                                              string
	group, stream, prefix, region, user, endpoint      string
	tail, boot, utc                                    bool
}

func runLogs(args []string) error {
	fs := newFlags("logs", "logs [APP] [-env dev] [-logs.tail] [-since 10m|RFC3339] [-until ...] [-filter PATTERN] [-format text|short|json]", logsAbout)
	var f logsFlags
	fs.StringVar(&f.env, "env", "dev", "`environment`: dev is the local log server; others are AWS (log group keel/ENV)")
	fs.BoolVar(&f.tail, "logs.tail", false, "follow: keep showing new events until Ctrl-C")
	fs.StringVar(&f.since, "since", "1h", "show events from this `time` on: a duration back from now (10m, 2h, 3d) or RFC3339")
	fs.StringVar(&f.until, "until", "", "show events up to this `time` (duration back from now or RFC3339); not with -logs.tail")
	fs.StringVar(&f.filter, "filter", "", "CloudWatch Logs filter `pattern`, e.g. '{ $.requestId = \"abc\" }' or 'ERROR -timeout'")
	fs.StringVar(&f.format, "format", "text", "output `format`: text (time, level, instance, message), short (time, message) or json (one object per line)")
	fs.StringVar(&f.instance, "instance", "", "only events of this instance `id`")
	fs.StringVar(&f.level, "level", "", "only events at or above this `level` (DEBUG, INFO, WARN, ERROR)")
	fs.BoolVar(&f.boot, "boot", false, "show the boot log (kernel and init) instead of the app's output")
	fs.StringVar(&f.group, "group", "", "read this log `group` instead of keel/ENV")
	fs.StringVar(&f.stream, "stream", "", "read this log `stream` only")
	fs.StringVar(&f.prefix, "stream.prefix", "", "read the streams whose names start with this `prefix`")
	fs.StringVar(&f.region, "region", "", "AWS `region` (default: from the AWS configuration)")
	fs.StringVar(&f.endpoint, "endpoint", "", "CloudWatch Logs endpoint `URL` for envs other than dev (default: AWS, or AWS_ENDPOINT_URL_CLOUDWATCH_LOGS)")
	fs.StringVar(&f.user, "user", "", "`user` part of APP when APP has none (default $KEEL_USER or your login name)")
	fs.BoolVar(&f.utc, "utc", false, "show times in UTC instead of local time")
	fs.StringVar(&f.query, "query", "", "run this Logs Insights `query` (e.g. 'stats count(*) by level') and show its results as a table")
	app, rest := splitApp(args)
	if err := parse(fs, rest); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		if app != "" || fs.NArg() > 1 {
			return fmt.Errorf("unexpected arguments %q: give one APP", fs.Args())
		}
		app = fs.Arg(0)
	}
	if f.query != "" {
		return f.runQuery(app)
	}
	src, err := f.source(app)
	if err != nil {
		return err
	}
	if !slices.Contains(logs.Formats, f.format) {
		return fmt.Errorf("-format=%q: use text, short or json", f.format)
	}
	if f.level != "" && !slices.Contains([]string{"TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "CRITICAL", "FATAL"}, strings.ToUpper(f.level)) {
		return fmt.Errorf("-level=%q: use DEBUG, INFO, WARN or ERROR", f.level)
	}
	now := time.Now()
	since, err := parseWhen(f.since, now)
	if err != nil {
		return fmt.Errorf("-since: %w", err)
	}
	var until time.Time
	if f.until != "" {
		if f.tail {
			return errors.New("-until cannot be combined with -logs.tail")
		}
		if until, err = parseWhen(f.until, now); err != nil {
			return fmt.Errorf("-until: %w", err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	client, where, err := f.client(ctx)
	if err != nil {
		return err
	}
	src.Client = client
	src.Notice = func(msg string) { fmt.Fprintf(os.Stderr, "keel logs: %s\n", msg) }
	out := &logs.Formatter{W: os.Stdout, Format: f.format, Color: isTerminal(os.Stdout), UTC: f.utc, Level: f.level, Instance: f.instance}
	show := func(e logs.Event) error {
		if !out.Keep(e) {
			return nil
		}
		return out.Write(e)
	}
	err = src.Check(ctx, f.tail)
	if err == nil && f.tail {
		err = src.Follow(ctx, since, show)
	} else if err == nil {
		err = src.History(ctx, since, until, show)
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// splitApp lets APP come before the flags, as in `keel logs hello -logs.tail`.
func splitApp(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// source maps the app and flags to a group and streams.
func (f *logsFlags) source(app string) (*logs.Source, error) {
	src := &logs.Source{Group: f.group, Pattern: f.filter, StreamPrefix: f.prefix}
	if src.Group == "" {
		if f.env == "" || strings.ContainsAny(f.env, " /:*") {
			return nil, fmt.Errorf("-env=%q: an environment is a simple name such as dev or prod", f.env)
		}
		src.Group = "keel/" + f.env
	}
	if f.stream != "" && f.prefix != "" {
		return nil, errors.New("-stream and -stream.prefix exclude each other")
	}
	switch {
	case f.stream != "":
		src.Streams = []string{f.stream}
	case app != "":
		if f.prefix != "" {
			return nil, errors.New("give either APP or -stream.prefix")
		}
		stream, err := appStream(app, f.user)
		if err != nil {
			return nil, err
		}
		if f.boot {
			stream += "/boot"
		}
		src.Streams = []string{stream}
	case f.group == "" && f.prefix == "":
		return nil, errors.New("which app? give APP (user/app or app), or -group/-stream/-stream.prefix to read any log group")
	}
	return src, nil
}

func appStream(app, usr string) (string, error) {
	parts := strings.Split(app, "/")
	switch {
	case len(parts) == 2 && parts[0] != "" && parts[1] != "":
		return app, nil
	case len(parts) == 1 && app != "":
		if usr == "" {
			usr = os.Getenv("KEEL_USER")
		}
		if usr == "" {
			if u, err := user.Current(); err == nil {
				usr = u.Username
			}
		}
		if usr == "" {
			return "", fmt.Errorf("app %q has no user part and none is known: write user/%s or set KEEL_USER", app, app)
		}
		return usr + "/" + app, nil
	}
	return "", fmt.Errorf("app %q is not user/app or app", app)
}

// client builds the CloudWatch Logs client for the environment and says
// what it talks to, for error messages.
func (f *logsFlags) client(ctx context.Context) (*cwl.Client, string, error) {
	if f.env == "dev" {
		data, err := home.Path("logserver")
		if err != nil {
			return nil, "", err
		}
		st, err := logserver.ReadState(data)
		if err != nil {
			return nil, "", fmt.Errorf("the local log server is not running (no server holds %s): start it with 'keel logserver -daemon', or read AWS with -env=ENV", data)
		}
		if st.Auth == "none" {
			c := cwl.New(cwl.Options{Region: "us-east-1", BaseEndpoint: aws.String(st.Endpoint), Credentials: aws.AnonymousCredentials{}}, logs.WithoutHostPrefix)
			return c, "local log server " + st.Endpoint, nil
		}
		c, err := logs.AdminClient(data, st.Endpoint)
		if err != nil {
			return nil, "", err
		}
		return c, "local log server " + st.Endpoint, nil
	}
	var opts []func(*config.LoadOptions) error
	if f.region != "" {
		opts = append(opts, config.WithRegion(f.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("load the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, "", errors.New("no AWS region: set AWS_REGION, a region in your AWS profile, or -region")
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return nil, "", fmt.Errorf("no AWS credentials: configure a profile (aws configure) or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: %w", err)
	}
	var optFns []func(*cwl.Options)
	where := "CloudWatch Logs in " + cfg.Region
	if f.endpoint != "" {
		optFns = append(optFns, func(o *cwl.Options) { o.BaseEndpoint = aws.String(f.endpoint) })
	}
	if ep := firstNonEmpty(f.endpoint, os.Getenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"), os.Getenv("AWS_ENDPOINT_URL")); ep != "" {
		optFns = append(optFns, logs.WithoutHostPrefix)
		where = "CloudWatch Logs at " + ep
	}
	return cwl.NewFromConfig(cfg, optFns...), where, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// parseWhen reads a duration back from now (10m, 2h, 3d) or an RFC3339 time.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		// Atoi, not Sscanf: the whole number or nothing ("1.5d" is no
		// day and a half, and must not read as one day).
		if days, err := strconv.Atoi(n); err == nil && days >= 0 {
			return now.AddDate(0, 0, -days), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q is neither a duration back from now (10m, 2h, 3d) nor an RFC3339 time (2026-11-23T20:00:00Z)", s)
	}
	return now.Add(-d), nil
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}
