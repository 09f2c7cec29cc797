package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keelvm/keel/internal/testutil"
)

// TestShipStackTraces: keel ship running real programs of this machine's
// runtimes that die of an exception: each trace is one ERROR event in the
// local server, the line printed before it an INFO event of its own. The
// programs are those whose captured output the shipper's own tests use.
func TestShipStackTraces(t *testing.T) {
	src, err := filepath.Abs("../../shipper/testdata/traces/src")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		runtime string
		argv    []string
		stdout  string   // the line printed before the trace
		has     []string // what the trace's one event holds
	}{
		{"java", []string{"java", filepath.Join(src, "Uncaught.java")}, "starting",
			[]string{`Exception in thread "main" java.lang.RuntimeException`, "\tSuppressed: java.io.IOException", "Caused by: java.lang.NumberFormatException", "\t... "}},
		{"python3", []string{"python3", filepath.Join(src, "uncaught.py")}, "",
			[]string{"Traceback (most recent call last):", "KeyError: 'missing'", "During handling of the above exception", "RuntimeError: bad configuration"}},
		{"node", []string{"node", filepath.Join(src, "uncaught.js")}, "listening",
			[]string{"uncaught.js:3\n", "^\n\nTypeError: Cannot read properties of undefined", "    at handler (", "\n\nNode.js v"}},
	}
	endpoint, data := shipServer(t)
	c := adminClient(t, data, endpoint)
	for _, tc := range cases {
		t.Run(tc.runtime, func(t *testing.T) {
			if _, err := exec.LookPath(tc.runtime); err != nil {
				testutil.Unavailable(t, "%s is not installed: %v", tc.runtime, err)
			}
			stream := "alice/" + tc.runtime
			args := append([]string{"ship", "-group", "keel/dev", "-stream", stream, "-console=false", "--"}, tc.argv...)
			r := keelEnv(t, t.TempDir(), shipEnv(endpoint, filepath.Join(data, "credentials")), args...)
			if r.code != 1 {
				t.Fatalf("exit %d, want the program's 1: %s", r.code, r.stderr)
			}
			var infos, errs []string
			for _, m := range messages(t, c, "keel/dev", stream) {
				var ev struct{ Level, Message, Source string }
				if err := json.Unmarshal([]byte(m), &ev); err != nil {
					t.Fatalf("event %q: %v", m, err)
				}
				if ev.Source == "stderr" {
					errs = append(errs, ev.Message)
				} else {
					infos = append(infos, ev.Message)
				}
			}
			if tc.stdout != "" && (len(infos) != 1 || infos[0] != tc.stdout) {
				t.Errorf("stdout events %q, want %q", infos, tc.stdout)
			}
			if len(errs) != 1 {
				t.Fatalf("%d stderr events, want the trace as one:\n%s", len(errs), strings.Join(errs, "\n---\n"))
			}
			for _, h := range tc.has {
				if !strings.Contains(errs[0], h) {
					t.Errorf("the trace's event lacks %q:\n%s", h, errs[0])
				}
			}
		})
	}
}
