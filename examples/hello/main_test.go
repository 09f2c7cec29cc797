package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// capture runs f with stdout and stderr going to pipes and returns what
// each received.
func capture(t *testing.T, f func()) (stdout, stderr string) {
	t.Helper()
	read := func(target **os.File) func() string {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		old := *target
		*target = w
		out := make(chan string)
		go func() { b, _ := io.ReadAll(r); out <- string(b) }()
		return func() string { *target = old; w.Close(); return <-out }
	}
	endOut, endErr := read(&os.Stdout), read(&os.Stderr)
	f()
	return endOut(), endErr()
}

func TestHandler(t *testing.T) {
	cases := []struct {
		path, id   string
		status     int
		body       string
		level      string
		stderrWant string
	}{
		{"/", "req-1", 200, "hello, world\n", "INFO", ""},
		{"/?name=ana", "", 200, "hello, ana\n", "INFO", ""},
		{"/fail", "req-2", 500, "simulated failure\n", "ERROR", "request req-2: simulated failure"},
		{"/nope", "req-3", 404, "404 page not found\n", "INFO", ""},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			srv := httptest.NewServer(handler())
			defer srv.Close()
			var resp *http.Response
			var body []byte
			stdout, stderr := capture(t, func() {
				req, _ := http.NewRequest("GET", srv.URL+tc.path, nil)
				if tc.id != "" {
					req.Header.Set("X-Request-Id", tc.id)
				}
				var err error
				if resp, err = http.DefaultClient.Do(req); err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
			})
			if resp.StatusCode != tc.status || string(body) != tc.body {
				t.Fatalf("%d %q", resp.StatusCode, body)
			}
			var ev map[string]any
			if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &ev); err != nil {
				t.Fatalf("stdout is not one JSON line: %q", stdout)
			}
			id := resp.Header.Get("X-Request-Id")
			if (tc.id != "" && id != tc.id) || ev["requestId"] != id || ev["level"] != tc.level || ev["status"] != float64(tc.status) {
				t.Fatalf("event %v, response id %q", ev, id)
			}
			if !strings.Contains(stderr, tc.stderrWant) || (tc.stderrWant == "" && stderr != "") {
				t.Fatalf("stderr %q", stderr)
			}
		})
	}
}
