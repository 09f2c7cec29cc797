package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/keelvm/keel/internal/home"
	"github.com/keelvm/keel/logserver"
)

func init() {
	register(command{name: "logserver", summary: "run the local CloudWatch Logs server (and manage its keys)", run: runLogserver})
}

const logserverAbout = `
Serves the CloudWatch Logs API (awsJson1_1) on loopback, storing events durably
under -data. Real AWS clients work against it unchanged:

    AWS_SHARED_CREDENTIALS_FILE=DATA/credentials \
        aws --endpoint-url http://127.0.0.1:4566 --region us-east-1 logs describe-log-groups

On first start the server writes DATA/credentials (mode 0600) with an admin key.
Requests must be signed with SigV4 unless -auth=none.

Like CloudWatch Logs, the server throttles per account (PutLogEvents 5,000/s,
CreateLogStream 50/s, DescribeLogStreams 25/s, FilterLogEvents and GetLogEvents
25/s in us-east-1, StartQuery 10/s, StartLiveTail 5/s): over a quota it answers
400 ThrottlingException "Rate exceeded". -quotas off disables them, -quota sets one.

Subcommands:
    keel logserver stop              stop the server running on -data
    keel logserver status            print where the server on -data listens
    keel logserver key create ...    issue a key (optionally write-only to one group)
    keel logserver key list          list keys
    keel logserver key delete ID     revoke a key`

func defaultDataDir() string {
	d, err := home.Path("logserver")
	if err != nil {
		return ".keel/logserver"
	}
	return d
}

func runLogserver(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "stop":
			return logserverStop(args[1:])
		case "status":
			return logserverStatus(args[1:])
		case "key":
			return runKey(args[1:])
		}
	}
	fs := newFlags("logserver", "logserver [-addr HOST:PORT] [-data DIR] [-auth sigv4|none] [-quotas on|off] [-quota OP=RATE] [-daemon]", logserverAbout)
	addr := fs.String("addr", logserver.DefaultAddr, "`address` to listen on; port 0 picks a free port (see DATA/logserver.json)")
	data := fs.String("data", defaultDataDir(), "data `directory` ($KEEL_HOME/logserver)")
	authMode := fs.String("auth", "sigv4", "request authentication: sigv4 (verify AWS signatures) or none (INSECURE: anyone who can connect has full access)")
	region := fs.String("region", "us-east-1", "`region` reported in ARNs")
	daemon := fs.Bool("daemon", false, "start in the background (idempotent: reuses a healthy server on the same -data), print its endpoint and exit")
	logFormat := fs.String("log.format", "text", "request log format: text or json")
	q := quotaFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	quotas, err := q.quotas()
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; subcommands are stop, status and key", fs.Arg(0))
	}
	if *authMode != "sigv4" && *authMode != "none" {
		return fmt.Errorf("-auth=%q: use sigv4 or none", *authMode)
	}
	if *logFormat != "text" && *logFormat != "json" {
		return fmt.Errorf("-log.format=%q: use text or json", *logFormat)
	}
	if *daemon {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find keel's own executable: %w", err)
		}
		cmd := []string{exe, "logserver", "-addr", *addr, "-data", *data, "-auth", *authMode, "-region", *region, "-log.format", *logFormat}
		cmd = append(cmd, q.args()...)
		st, started, err := logserver.StartDaemon(logserver.DaemonConfig{Command: cmd, DataDir: *data})
		if err != nil {
			return err
		}
		verb := "already running"
		if started {
			verb = "started"
		}
		fmt.Fprintf(os.Stderr, "keel logserver %s: pid %d, endpoint %s, data %s\n", verb, st.PID, st.Endpoint, st.DataDir)
		if st.Credentials != "" {
			fmt.Fprintf(os.Stderr, "credentials: AWS_SHARED_CREDENTIALS_FILE=%s\n", st.Credentials)
		}
		fmt.Println(st.Endpoint)
		return nil
	}

	var h slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if *logFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, nil)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err = logserver.Run(ctx, logserver.RunConfig{
		Addr: *addr, DataDir: *data, AuthNone: *authMode == "none", Region: *region, Logger: slog.New(h),
		Quotas: quotas, MaxLiveTails: *q.sessions,
	})
	if errors.Is(err, logserver.ErrAlreadyRunning) {
		msg := err.Error()
		if st, serr := logserver.ReadState(*data); serr == nil {
			msg = fmt.Sprintf("%v (pid %d, endpoint %s); stop it with 'keel logserver stop -data %s'", err, st.PID, st.Endpoint, *data)
		}
		return &exitError{code: logserver.ExitAlreadyRunning, err: errors.New(msg)}
	}
	return err
}

func logserverStop(args []string) error {
	fs := newFlags("logserver stop", "logserver stop [-data DIR]", "Stops the log server running on -data and waits until it has released the directory.")
	data := fs.String("data", defaultDataDir(), "data `directory` of the server")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the server to stop")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	st, err := logserver.Stop(*data, *timeout)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "keel logserver stopped (pid %d)\n", st.PID)
	return nil
}

func logserverStatus(args []string) error {
	fs := newFlags("logserver status", "logserver status [-data DIR]", "Prints the endpoint of the log server running on -data, or fails (exit 1) if none runs.")
	data := fs.String("data", defaultDataDir(), "data `directory` of the server")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	st, err := logserver.ReadState(*data)
	if err != nil {
		return fmt.Errorf("no log server is running on %s", *data)
	}
	fmt.Printf("endpoint %s\npid %d\nauth %s\ndata %s\n", st.Endpoint, st.PID, st.Auth, st.DataDir)
	if st.Credentials != "" {
		fmt.Printf("credentials %s\n", st.Credentials)
	}
	return nil
}
