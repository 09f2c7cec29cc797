package logserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/keelvm/keel/logserver/store"
)

func newDirectServer(t *testing.T) *Server {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Store: st, TokenKey: bytes.Repeat([]byte("k"), 32), Quotas: Quotas{Off: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func direct(t *testing.T, s *Server, op string, in any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(in)
	r := httptest.NewRequest("POST", "/", bytes.NewReader(b))
	r.Header.Set("X-Amz-Target", targetPrefix+op)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var out map[string]any
	json.Unmarshal(w.Body.Bytes(), &out)
	if w.Code != 200 {
		t.Fatalf("%s: %d %v", op, w.Code, out)
	}
	return out
}

// TestPaginationRandom pages through random data, with events large enough
// that byte limits cut pages, and with equal timestamps across streams: every
// event comes back exactly once, in order, through FilterLogEvents and
// through GetLogEvents in both directions.
func TestPaginationRandom(t *testing.T) {
	type ev struct {
		stream string
		ts     int64
		id     string
	}
	for seed := int64(1); seed <= 8; seed++ {
		s := newDirectServer(t)
		rng := rand.New(rand.NewSource(seed))
		base := time.Now().UnixMilli() - 3600_000
		direct(t, s, "CreateLogGroup", map[string]any{"logGroupName": "g"})
		streams := []string{"s0", "s1", "s2"}
		for _, st := range streams {
			direct(t, s, "CreateLogStream", map[string]any{"logGroupName": "g", "logStreamName": st})
		}
		var all []ev
		for b, k := 0, 0; b < 30; b++ {
			st := streams[rng.Intn(3)]
			t0 := base + int64(rng.Intn(10))
			var evs []any
			for i := 0; i < 1+rng.Intn(3); i++ {
				t0 += int64(rng.Intn(2))
				id := fmt.Sprintf("m%04d", k)
				k++
				evs = append(evs, map[string]any{"timestamp": t0, "message": id + "-" + strings.Repeat("x", rng.Intn(3)*150000)})
				all = append(all, ev{st, t0, id})
			}
			direct(t, s, "PutLogEvents", map[string]any{"logGroupName": "g", "logStreamName": st, "logEvents": evs})
		}
		for _, limit := range []int{1, 2, 7, 10000} {
			seen := map[string]int{}
			n, last := 0, int64(0)
			var tok any
			for i := 0; i < 10000; i++ {
				in := map[string]any{"logGroupName": "g", "limit": limit}
				if tok != nil {
					in["nextToken"] = tok
				}
				out := direct(t, s, "FilterLogEvents", in)
				for _, e := range out["events"].([]any) {
					m := e.(map[string]any)
					seen[m["message"].(string)[:5]]++
					n++
					ts := int64(m["timestamp"].(float64))
					if ts < last {
						t.Fatalf("seed %d: filter out of order", seed)
					}
					last = ts
				}
				if tok = out["nextToken"]; tok == nil {
					break
				}
			}
			for _, e := range all {
				if seen[e.id] != 1 {
					t.Fatalf("seed %d limit %d: %s seen %d times (%d events in all)", seed, limit, e.id, seen[e.id], n)
				}
			}
		}
		for _, st := range streams {
			var want []string
			var ws []ev
			for _, e := range all {
				if e.stream == st {
					ws = append(ws, e)
				}
			}
			sort.SliceStable(ws, func(i, j int) bool { return ws[i].ts < ws[j].ts })
			for _, e := range ws {
				want = append(want, e.id)
			}
			for _, limit := range []int{1, 2, 5} {
				for _, head := range []bool{true, false} {
					var got []string
					var tok any
					for i := 0; i < 1000; i++ {
						in := map[string]any{"logGroupName": "g", "logStreamName": st, "limit": limit, "startFromHead": head}
						if tok != nil {
							in["nextToken"] = tok
						}
						out := direct(t, s, "GetLogEvents", in)
						var page []string
						for _, e := range out["events"].([]any) {
							page = append(page, e.(map[string]any)["message"].(string)[:5])
						}
						key := "nextForwardToken"
						if head {
							got = append(got, page...)
						} else {
							key = "nextBackwardToken"
							got = append(page, got...)
						}
						if out[key] == tok {
							break
						}
						tok = out[key]
					}
					if strings.Join(got, ",") != strings.Join(want, ",") {
						t.Fatalf("seed %d stream %s limit %d head %v:\n got %v\nwant %v", seed, st, limit, head, got, want)
					}
				}
			}
		}
	}
}
