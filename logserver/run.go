package logserver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/keelvm/keel/internal/fsutil"
	"github.com/keelvm/keel/logserver/auth"
	"github.com/keelvm/keel/logserver/store"
)

// ErrAlreadyRunning is returned by Run when another server holds the data
// directory. Two servers on one directory would corrupt it.
var ErrAlreadyRunning = errors.New("a log server is already running on this data directory")

// RunConfig configures Run.
type RunConfig struct {
	Addr     string // host:port; default 127.0.0.1:4566; port 0 picks a free port
	DataDir  string
	AuthNone bool // accept unsigned requests as admin: insecure, for clients that cannot sign
	Region   string
	Logger   *slog.Logger
	// RetentionEvery is how often expired segments are deleted (default 1 min).
	RetentionEvery time.Duration
	// Ready, if set, is called once the server accepts connections.
	Ready func(State)
	// LiveTailTimeout ends live tail sessions (default 3 h, as AWS).
	LiveTailTimeout time.Duration
	// Quotas are the per-account request quotas; the zero value enforces
	// the service's defaults (docs/quotas.md).
	Quotas Quotas
	// MaxLiveTails bounds the live tail sessions open at once (default 15, as AWS).
	MaxLiveTails int
}

// Run serves the API until ctx is done, then shuts down gracefully: requests
// in flight finish (their events are already durable when acknowledged), the
// store closes, and the state file is removed.
func Run(ctx context.Context, rc RunConfig) error {
	if rc.Addr == "" {
		rc.Addr = DefaultAddr
	}
	if rc.Logger == nil {
		rc.Logger = slog.Default()
	}
	if rc.RetentionEvery == 0 {
		rc.RetentionEvery = time.Minute
	}
	log := rc.Logger
	if err := os.MkdirAll(rc.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory %s: %w", rc.DataDir, err)
	}
	unlock, err := lockDataDir(rc.DataDir)
	if err != nil {
		return err
	}
	defer unlock()

	tokenKey, err := loadOrCreateSecret(filepath.Join(rc.DataDir, "token.key"))
	if err != nil {
		return err
	}
	st, err := store.Open(filepath.Join(rc.DataDir, "store"), store.Options{
		Logf: func(format string, args ...any) { log.Warn(fmt.Sprintf(format, args...)) },
	})
	if err != nil {
		return fmt.Errorf("open log store in %s: %w", rc.DataDir, err)
	}
	defer st.Close()

	cfg := Config{Store: st, TokenKey: tokenKey, Region: rc.Region, Logger: log, LiveTailTimeout: rc.LiveTailTimeout,
		Quotas: rc.Quotas, MaxLiveTails: rc.MaxLiveTails}
	credPath := filepath.Join(rc.DataDir, "credentials")
	if rc.AuthNone {
		log.Warn("INSECURE: -auth=none: every request is accepted without a signature and with full access; anyone who can reach " + rc.Addr + " can read and delete all logs")
	} else {
		keys, created, err := auth.OpenKeyring(rc.DataDir)
		if err != nil {
			return err
		}
		if created {
			log.Info("created admin credentials", "file", credPath)
		}
		cfg.Keys = keys
	}
	srv, err := New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", rc.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("listen on %s: the address is in use by another program; pick another with -addr (port 0 picks a free one): %w", rc.Addr, err)
		}
		return fmt.Errorf("listen on %s: %w", rc.Addr, err)
	}
	if !isLoopback(ln.Addr()) {
		log.Warn("listening on a non-loopback address: the server is reachable from the network", "addr", ln.Addr().String())
	}
	state := State{
		PID: os.Getpid(), Addr: ln.Addr().String(), Endpoint: "http://" + ln.Addr().String(),
		DataDir: rc.DataDir, Auth: authMode(rc.AuthNone), Started: time.Now().UTC(),
	}
	if !rc.AuthNone {
		state.Credentials = credPath
	}
	if err := writeState(rc.DataDir, state); err != nil {
		ln.Close()
		return err
	}
	defer removeState(rc.DataDir)

	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Live tail sessions last for hours and never go idle: a graceful
	// shutdown must end them, not wait for them.
	hs.RegisterOnShutdown(srv.endLiveTails)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("keel logserver listening", "endpoint", state.Endpoint, "data", rc.DataDir, "auth", state.Auth, "pid", state.PID,
		"quotas", srv.quotas.describe())
	if rc.Ready != nil {
		rc.Ready(state)
	}

	ticker := time.NewTicker(rc.RetentionEvery)
	defer ticker.Stop()
	for {
		select {
		case err := <-errc:
			return fmt.Errorf("serve on %s: %w", state.Addr, err)
		case <-ticker.C:
			if err := st.EnforceRetention(); err != nil {
				log.Error("enforce retention", "err", err)
			}
		case <-ctx.Done():
			log.Info("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := hs.Shutdown(sctx)
			cancel()
			if err != nil {
				// Cut them for real: the store closes next.
				hs.Close()
				log.Warn("requests still running at shutdown were cut", "err", err)
			}
			return nil
		}
	}
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

func authMode(none bool) string {
	if none {
		return "none"
	}
	return "sigv4"
}

// loadOrCreateSecret returns the server's token key, creating it on first
// start; it persists so that tokens stay valid across restarts.
func loadOrCreateSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read token key %s: %w", path, err)
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generate token key: %w", err)
	}
	if err := fsutil.WriteFileAtomic(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("write token key %s: %w", path, err)
	}
	return b, nil
}
