package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keelvm/keel/imds"
)

// closedAddr is an address where nothing listens: the connection is refused.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestReadMetadata(t *testing.T) {
	srv := &imds.Server{InstanceID: "i-0123456789abcdef0", Region: "eu-west-3", UserData: []byte("keel.wait=network\n")}
	ok := httptest.NewServer(srv)
	defer ok.Close()
	noUD := httptest.NewServer(&imds.Server{InstanceID: "i-0123456789abcdef0", Region: "eu-west-3"})
	defer noUD.Close()
	v1 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			http.Error(w, "", http.StatusForbidden) // tokens refused: never fall back to IMDSv1
			return
		}
		w.Write([]byte("i-v1"))
	}))
	defer v1.Close()
	cases := []struct {
		name, base string
		ud         string
		noUserData bool
		err        string
	}{
		{"answers", ok.URL, "keel.wait=network\n", false, ""},
		{"no user data", noUD.URL, "", true, ""},
		{"IMDSv1 only", v1.URL, "", false, "403"},
		{"unreachable", closedAddr(t), "", false, "refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t0 := time.Now()
			md, err := readMetadata(context.Background(), tc.base)
			if d := time.Since(t0); d > imdsBound+300*time.Millisecond {
				t.Fatalf("took %v, over the bound %v", d, imdsBound)
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || md.instance != "i-0123456789abcdef0" || md.region != "eu-west-3" || string(md.userData) != tc.ud || (md.userData == nil) != tc.noUserData {
				t.Fatalf("got %+v %v", md, err)
			}
		})
	}
}
