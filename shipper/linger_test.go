package shipper

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/keelvm/keel/shipper/cwlsdk"
)

// TestLingerUnderThrottling: a throttled request doubles the linger, once
// per linger however many requests were throttled in it, up to MaxLinger,
// with one request in flight, and waits the linger it had; the linger then
// halves every lingerHalfLife and eases on each acceptance, back to the
// default and its InFlight requests.
func TestLingerUnderThrottling(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s, err := New(Config{Client: cwlsdk.Wrap(newFake()), Group: "g", Stream: "s", Now: clock, MaxLinger: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	throttle := apiErr("ThrottlingException", "Rate exceeded")
	linger := func() (time.Duration, int) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.lingerAt(clock()), s.inflightCap(clock())
	}
	near := func(step string, want time.Duration, wantN int) {
		t.Helper()
		l, n := linger()
		if l < want-2*time.Millisecond || l > want+2*time.Millisecond || n != wantN {
			t.Errorf("%s: linger %v with %d in flight, want %v with %d", step, l, n, want, wantN)
		}
	}
	throttled := func(step string) {
		t.Helper()
		l, _ := linger()
		w := s.throttled(throttle)
		if lo, hi := l/2, 3*l/2; w < lo || w > hi+time.Millisecond { // the linger before
			t.Errorf("%s: wait %v, want [%v, %v]", step, w, lo, hi)
		}
	}
	near("start", 200*time.Millisecond, 4)
	throttled("first throttle")
	near("first throttle", 400*time.Millisecond, 1) // twice the default
	throttled("again at once")
	near("again at once", 400*time.Millisecond, 1) // one signal per linger
	advance(400 * time.Millisecond)
	near("a linger later", 398*time.Millisecond, 1) // decaying
	throttled("a linger later")
	near("throttled a linger later", 796*time.Millisecond, 1) // doubled again
	for i := 0; i < 6; i++ {
		advance(2 * time.Second) // at least the linger: each is a new signal
		throttled("rising")
	}
	near("capped", 2*time.Second, 1) // MaxLinger
	advance(lingerHalfLife)
	near("a half-life later", time.Second, 1)
	s.mu.Lock()
	s.easeLinger()
	s.mu.Unlock()
	near("accepted", 950*time.Millisecond, 1)
	throttled("throttled after an acceptance")
	near("throttled after an acceptance", 1900*time.Millisecond, 1) // a new signal: the last raise is old
	advance(5 * lingerHalfLife)
	near("throttling over", 200*time.Millisecond, 4)
	if got := s.Stats().Throttled; got != 10 {
		t.Errorf("Stats.Throttled %d, want 10", got)
	}
}
