package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakeIMDS emulates IMDSv2: a token from PUT /latest/api/token (with a
// TTL header) is required by every GET.
func fakeIMDS(t *testing.T, delay time.Duration) *httptest.Server {
	const token = "tok-123"
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		if r.URL.Path == "/latest/api/token" {
			if r.Method != http.MethodPut || r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
				http.Error(w, "bad token request", http.StatusBadRequest)
				return
			}
			w.Write([]byte(token))
			return
		}
		if r.Header.Get("X-aws-ec2-metadata-token") != token {
			http.Error(w, "", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/latest/meta-data/instance-id":
			w.Write([]byte("i-0123456789abcdef0"))
		case "/latest/meta-data/placement/region":
			w.Write([]byte("eu-west-3\n"))
		default:
			http.NotFound(w, r)
		}
	}))
}

func TestIMDSIdentity(t *testing.T) {
	ok := fakeIMDS(t, 0)
	defer ok.Close()
	slow := fakeIMDS(t, time.Second)
	defer slow.Close()
	v1 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "", http.StatusForbidden) // IMDSv1-only or token refused
	}))
	defer v1.Close()
	cases := []struct {
		name, base       string
		instance, region string
		err              string
	}{
		{"answers", ok.URL, "i-0123456789abcdef0", "eu-west-3", ""},
		{"too slow", slow.URL, "", "", "deadline exceeded"},
		{"token refused", v1.URL, "", "", "403"},
		{"unreachable", "http://127.0.0.1:1", "", "", "refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), imdsBound)
			defer cancel()
			t0 := time.Now()
			id, region, err := imdsIdentity(ctx, tc.base)
			if d := time.Since(t0); d > imdsBound+200*time.Millisecond {
				t.Fatalf("took %v, over the bound %v", d, imdsBound)
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || id != tc.instance || region != tc.region {
				t.Fatalf("got %q %q %v", id, region, err)
			}
		})
	}
}
