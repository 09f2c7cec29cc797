package main

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// flakySource hands out numbered credentials lasting life, or fails.
type flakySource struct {
	mu    sync.Mutex
	n     int
	fail  bool
	calls int
	life  time.Duration
}

func (f *flakySource) Retrieve(context.Context) (aws.Credentials, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail {
		return aws.Credentials{}, errors.New("IMDS unreachable")
	}
	f.n++
	return aws.Credentials{AccessKeyID: "KEY" + string(rune('0'+f.n)), SecretAccessKey: "s", CanExpire: true, Expires: time.Now().Add(f.life)}, nil
}

func (f *flakySource) set(fail bool) { f.mu.Lock(); f.fail = fail; f.mu.Unlock() }

// TestRoleCredentials: refreshed at two thirds of their life; a failed
// refresh keeps the current ones (said once) and retries with backoff,
// not on every request; recovery is said; forget forces a refresh.
func TestRoleCredentials(t *testing.T) {
	initLog.mu.Lock()
	mark := len(initLog.held)
	initLog.mu.Unlock()
	src := &flakySource{life: 1200 * time.Millisecond}
	rc := &roleCredentials{src: src}
	cache := aws.NewCredentialsCache(rc)
	ctx := context.Background()
	get := func() string {
		c, err := cache.Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c.AccessKeyID
	}
	if k := get(); k != "KEY1" {
		t.Fatalf("first: %s", k)
	}
	if k := get(); k != "KEY1" || src.calls != 1 {
		t.Fatalf("cached: %s after %d calls", k, src.calls)
	}
	time.Sleep(850 * time.Millisecond) // past 2/3 of 1.2 s
	if k := get(); k != "KEY2" {
		t.Fatalf("after 2/3 of the life: %s, want a refresh", k)
	}
	src.set(true)
	time.Sleep(850 * time.Millisecond)
	calls := src.calls
	for range 20 {
		if k := get(); k != "KEY2" {
			t.Fatalf("during the outage: %s, want the current ones", k)
		}
	}
	if src.calls-calls > 1 {
		t.Fatalf("%d refresh attempts for 20 requests: no backoff", src.calls-calls)
	}
	time.Sleep(400 * time.Millisecond) // KEY2 expired now
	if _, err := cache.Retrieve(ctx); err == nil {
		t.Fatal("expired credentials still handed out")
	}
	src.set(false)
	time.Sleep(100 * time.Millisecond)
	if k := get(); k != "KEY3" {
		t.Fatalf("after the outage: %s", k)
	}
	rc.forget()
	cache.Invalidate()
	if k := get(); k != "KEY4" {
		t.Fatalf("after forget: %s", k)
	}
	initLog.mu.Lock()
	var said []string
	for _, ev := range initLog.held[mark:] {
		said = append(said, ev.Message)
	}
	initLog.mu.Unlock()
	lines := strings.Join(said, "\n")
	if n := strings.Count(lines, "refreshing the instance role's credentials failed"); n != 1 {
		t.Errorf("the failure was said %d times, want once:\n%s", n, lines)
	}
	if !strings.Contains(lines, "credentials are refreshed") {
		t.Errorf("the recovery was not said:\n%s", lines)
	}
}
