// Package vmtest holds what keel's QEMU tests share: the guestfwd
// forwarder hook for TestMain, finding QEMU and the kernel (a failure on
// CI, a skip elsewhere), building static test binaries, and a local log
// server with a write-only key for the VM and readers of what arrived.
// Only tests import it.
package vmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/internal/home"
	"github.com/keelvm/keel/internal/qemu"
	"github.com/keelvm/keel/internal/testutil"
	"github.com/keelvm/keel/logs"
	"github.com/keelvm/keel/logserver"
	"github.com/keelvm/keel/logserver/auth"
)

// Kernel makes sure QEMU can run and returns the kernel to boot, fetched
// into keel's cache when missing.
func Kernel(t testing.TB) *kernel.Kernel {
	t.Helper()
	if err := qemu.Available(); err != nil {
		testutil.Unavailable(t, "%v", err)
	}
	cache, err := home.Path("kernels")
	if err != nil {
		t.Fatal(err)
	}
	k, err := kernel.Ensure(cache, "", testWriter{t})
	if err != nil {
		testutil.Unavailable(t, "kernel: %v", err)
	}
	return k
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// BuildStatic builds Go package pkg as a static, stripped binary, with the
// tags the Makefile builds the init with (nethttpomithttp2: no HTTP/2 in
// net/http; harmless to other programs).
func BuildStatic(t testing.TB, pkg, out string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-tags", "nethttpomithttp2", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
}

// LogServer is keel's local log server for one test, with a log group and
// a write-only key for the VM, stopped when the test ends.
type LogServer struct {
	t      testing.TB
	Group  string
	Prefix string          // the streams the VM's key may write
	Addr   string          // host:port on loopback, for a qemu.Forward
	Admin  *cwl.Client     // full access, for reading
	Creds  initramfs.Entry // the VM's key, as an image carries it
}

// GuestEndpoint is where a VM reaches the server (a qemu.Forward on port 4566).
const GuestEndpoint = "http://10.0.2.100:4566"

// NewLogServer starts a server and creates group, and a key that may write
// to the streams of group whose names start with prefix.
func NewLogServer(t testing.TB, group, prefix string) *LogServer {
	t.Helper()
	data := t.TempDir()
	st, stop, err := logserver.Start(logserver.RunConfig{Addr: "127.0.0.1:0", DataDir: data,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop() })
	kr, _, err := auth.OpenKeyring(data)
	if err != nil {
		t.Fatal(err)
	}
	vmKey, err := kr.Create("vm", &auth.Scope{Group: group, StreamPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	c, err := logs.AdminClient(data, st.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogGroup(context.Background(), &cwl.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	return &LogServer{t: t, Group: group, Prefix: prefix, Addr: strings.TrimPrefix(st.Endpoint, "http://"), Admin: c,
		// As image.Credentials writes it (image's own tests import vmtest).
		Creds: initramfs.Entry{Path: bootcfg.DefaultCredentials, Kind: initramfs.File, Mode: 0o600, Data: []byte(auth.CredentialsSection(vmKey, "default"))}}
}

// Logs is the image configuration that ships to stream through the
// guestfwd, as image.
func (s *LogServer) Logs(stream, image string) *bootcfg.Logs {
	return &bootcfg.Logs{Group: s.Group, Stream: stream, Endpoint: GuestEndpoint, Image: image}
}

// Forward is the qemu.Forward that takes the guest to the server.
func (s *LogServer) Forward() qemu.Forward { return qemu.Forward{Port: 4566, Host: s.Addr} }

// TryEvents returns the JSON events of a stream in order.
func (s *LogServer) TryEvents(stream string) ([]map[string]any, error) {
	var out []map[string]any
	p := cwl.NewGetLogEventsPaginator(s.Admin, &cwl.GetLogEventsInput{LogGroupName: aws.String(s.Group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)},
		func(o *cwl.GetLogEventsPaginatorOptions) { o.StopOnDuplicateToken = true })
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			return nil, err
		}
		for _, ev := range page.Events {
			var m map[string]any
			if err := json.Unmarshal([]byte(*ev.Message), &m); err != nil {
				return nil, fmt.Errorf("event %q is not JSON", *ev.Message)
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// Events is TryEvents failing the test on error.
func (s *LogServer) Events(stream string) []map[string]any {
	s.t.Helper()
	evs, err := s.TryEvents(stream)
	if err != nil {
		s.t.Fatalf("read %s: %v", stream, err)
	}
	return evs
}

// Messages returns the messages of a stream from source (all sources when
// empty), one a line; a stream not yet created has none.
func (s *LogServer) Messages(stream, source string) string {
	s.t.Helper()
	evs, err := s.TryEvents(stream)
	if err != nil && !strings.Contains(err.Error(), "ResourceNotFoundException") {
		s.t.Fatalf("read %s: %v", stream, err)
	}
	var b strings.Builder
	for _, m := range evs {
		if source == "" || m["source"] == source {
			fmt.Fprintf(&b, "%v\n", m["message"])
		}
	}
	return b.String()
}
