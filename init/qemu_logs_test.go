package main

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keelvm/keel/vmtest"
)

// testGroup is the log group of the lifecycle tests; their VM writes
// stream "app".
const testGroup = "keel/test"

func newLogServer(t *testing.T) *vmtest.LogServer { return vmtest.NewLogServer(t, testGroup, "app") }

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
