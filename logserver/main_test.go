package logserver_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/keelvm/keel/logserver"
)

// serveMarker makes the test binary act as a log server process, so that
// crash and daemon tests can kill -9 a real server without building keel.
const serveMarker = "keel-test-logserver"

func TestMain(m *testing.M) {
	if len(os.Args) >= 3 && os.Args[1] == serveMarker {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		err := logserver.Run(ctx, logserver.RunConfig{
			Addr: "127.0.0.1:0", DataDir: os.Args[2], Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			if errorsIsRunning(err) {
				os.Exit(logserver.ExitAlreadyRunning)
			}
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
