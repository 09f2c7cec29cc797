package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/internal/bootcfg"
	"github.com/keelvm/keel/logserver"
	"github.com/keelvm/keel/logserver/auth"
)

// logServer is keel's local log server for a test, with a log group and a
// write-only key for the VM.
type logServer struct {
	t     *testing.T
	addr  string // host:port on loopback
	admin *cwl.Client
	creds initramfs.Entry // the VM's key, as the image carries it
}

const testGroup = "keel/test"

func newLogServer(t *testing.T) *logServer {
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
	admin, _ := kr.Admin()
	vmKey, err := kr.Create("vm", &auth.Scope{Group: testGroup, StreamPrefix: "app"})
	if err != nil {
		t.Fatal(err)
	}
	c := cwl.New(cwl.Options{Region: "us-east-1", BaseEndpoint: aws.String(st.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(admin.ID, admin.Secret, "")})
	if _, err := c.CreateLogGroup(context.Background(), &cwl.CreateLogGroupInput{LogGroupName: aws.String(testGroup)}); err != nil {
		t.Fatal(err)
	}
	creds := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", vmKey.ID, vmKey.Secret)
	return &logServer{t: t, addr: strings.TrimPrefix(st.Endpoint, "http://"), admin: c,
		creds: initramfs.Entry{Path: bootcfg.DefaultCredentials, Kind: initramfs.File, Mode: 0o600, Data: []byte(creds)}}
}

// logs is the configuration that ships to stream "app" through the
// guestfwd at 10.0.2.100:4566.
func (s *logServer) logs() *bootcfg.Logs {
	return &bootcfg.Logs{Group: testGroup, Stream: "app", Endpoint: "http://10.0.2.100:4566", Image: "test/hello:1"}
}

// tryEvents returns the JSON events of a stream in order.
func (s *logServer) tryEvents(stream string) ([]map[string]any, error) {
	var out []map[string]any
	p := cwl.NewGetLogEventsPaginator(s.admin, &cwl.GetLogEventsInput{LogGroupName: aws.String(testGroup), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)},
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

// messages returns the messages of a stream from source (all sources when
// empty), one a line; a stream not yet created has none.
func (s *logServer) messages(stream, source string) string {
	evs, err := s.tryEvents(stream)
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

// cutProxy forwards TCP connections to a target until cut: then it
// refuses new connections and closes each open one once it is idle, until
// restored on the same port. Idle, because a connection cut between the
// server's work and its answer makes any PutLogEvents client send the batch
// again (the API has no idempotency token): that is at-least-once by
// nature, and not what this cut is about.
type cutProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]*atomic.Int64 // last activity, unix nanoseconds
	cutting      chan struct{}
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	p := &cutProxy{target: target, conns: map[net.Conn]*atomic.Int64{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.ln != nil {
			p.ln.Close()
		}
		for c := range p.conns {
			c.Close()
		}
	})
	return p
}

func (p *cutProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

// activeCopy copies src to dst, noting the time of each transfer.
func activeCopy(dst, src net.Conn, last *atomic.Int64) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			last.Store(time.Now().UnixNano())
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			last.Store(time.Now().UnixNano())
		}
		if err != nil {
			return
		}
	}
}

func (p *cutProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	last := &atomic.Int64{}
	last.Store(time.Now().UnixNano())
	p.mu.Lock()
	p.conns[c] = last
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { activeCopy(up, c, last); done <- struct{}{} }()
	go func() { activeCopy(c, up, last); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// cut refuses new connections and closes the open ones as they go idle.
func (p *cutProxy) cut() {
	p.mu.Lock()
	p.ln.Close()
	p.ln = nil
	p.cutting = make(chan struct{})
	stop := p.cutting
	p.mu.Unlock()
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			p.mu.Lock()
			for c, last := range p.conns {
				if time.Since(time.Unix(0, last.Load())) > 100*time.Millisecond {
					c.Close()
				}
			}
			p.mu.Unlock()
		}
	}()
}

func (p *cutProxy) restore(t *testing.T) {
	p.mu.Lock()
	close(p.cutting)
	p.mu.Unlock()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("reopen the proxy on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// waitFor polls cond until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}
