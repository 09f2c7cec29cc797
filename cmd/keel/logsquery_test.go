package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keelvm/keel/internal/testutil"
	"github.com/keelvm/keel/logserver/auth"
)

// TestLogsQuery runs `keel logs -query` against the local server, through
// the dev path and through the AWS path (-env prod -endpoint) alike.
func TestLogsQuery(t *testing.T) {
	home := t.TempDir()
	r := keel(t, home, "logserver", "-daemon", "-addr", "127.0.0.1:0")
	if r.code != 0 {
		t.Fatalf("daemon: %+v", r)
	}
	t.Cleanup(func() { keel(t, home, "logserver", "stop") })
	endpoint := strings.TrimSpace(r.stdout)
	data := filepath.Join(home, "logserver")
	c := adminClient(t, data, endpoint)
	put(t, c, "keel/dev", "alice/web", `{"level":"INFO","requestId":"req-1","latency":12}`,
		`{"level":"ERROR","requestId":"req-2","latency":300}`, "plain line")
	put(t, c, "keel/dev", "alice/api", `{"level":"INFO","requestId":"req-2","latency":8}`)
	put(t, c, "keel/prod", "alice/web", `{"level":"ERROR","requestId":"req-9","latency":1}`)

	cases := []struct {
		args []string
		code int
		want []string
		not  []string
	}{
		// A table over the group; the header, a rule, aligned columns.
		{[]string{"logs", "-query", "stats count(*) as n by level | sort level"}, 0,
			[]string{"level  n\n-----  -\nERROR  1\nINFO   2\n       1\n"}, nil},
		// With APP, only its stream.
		{[]string{"logs", "alice/web", "-query", "filter ispresent(latency) | stats sum(latency) as total"}, 0, []string{"total\n-----\n312\n"}, nil},
		// Several groups with -group.
		{[]string{"logs", "-group", "keel/dev,keel/prod", "-query", `filter level = "ERROR" | fields requestId | sort requestId`}, 0, []string{"req-2", "req-9"}, nil},
		{[]string{"logs", "-group", "keel/dev", "-stream.prefix", "alice/a", "-query", "fields requestId"}, 0, []string{"req-2"}, []string{"req-1"}},
		// Errors show the query with the place marked, at the user's offsets.
		{[]string{"logs", "alice/web", "-query", "stats count(*) by"}, 1, []string{"  stats count(*) by\n                  ^", "the query ends here"}, nil},
		{[]string{"logs", "-query", "fields a", "-logs.tail"}, 1, []string{"cannot be combined with -logs.tail"}, nil},
		{[]string{"logs", "-query", "fields a", "-filter", "x"}, 1, []string{"-query replaces -filter"}, nil},
		{[]string{"logs", "-query", "fields a", "-group", "nope"}, 1, []string{"ResourceNotFoundException"}, nil},
		{[]string{"logs", "-query", "fields a", "-since", "1h", "-until", "2h"}, 1, []string{"is before -since"}, nil},
		{[]string{"logs", "-query", "fields a", "-format", "short"}, 0, nil, nil},
		{[]string{"logs", "-query", "fields a", "-format", "csv"}, 1, []string{`-format="csv": use text or short (a table) or json`}, nil},
	}
	for _, tc := range cases {
		r := keel(t, home, tc.args...)
		all := r.stdout + r.stderr
		if r.code != tc.code {
			t.Errorf("keel %v: exit %d, want %d: %s", tc.args, r.code, tc.code, all)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(all, w) {
				t.Errorf("keel %v: output lacks %q:\n%s", tc.args, w, all)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(all, w) {
				t.Errorf("keel %v: output has %q:\n%s", tc.args, w, all)
			}
		}
	}

	// -format json: one object per row, through the AWS client path.
	kr, _, err := auth.OpenKeyring(data)
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := kr.Admin()
	env := []string{"AWS_ACCESS_KEY_ID=" + admin.ID, "AWS_SECRET_ACCESS_KEY=" + admin.Secret, "AWS_REGION=us-east-1"}
	r = keelEnv(t, home, env, "logs", "-env", "prod", "-endpoint", endpoint, "-query", "stats count(*) as n by @logStream", "-format", "json")
	if r.code != 0 {
		t.Fatalf("json: %+v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var row map[string]string
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &row) != nil || row["n"] != "1" || row["@logStream"] != "alice/web" {
		t.Fatalf("json rows: %q", r.stdout)
	}
}

// TestLogsQueryProgressOnTerminal runs `keel logs -query` on a terminal
// (script(1) gives it a pseudo-terminal): the progress line shows the
// records scanned, and is erased before the table.
func TestLogsQueryProgressOnTerminal(t *testing.T) {
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		testutil.Unavailable(t, "script(1) from util-linux is needed to give keel a terminal")
	}
	home := t.TempDir()
	r := keel(t, home, "logserver", "-daemon", "-addr", "127.0.0.1:0")
	if r.code != 0 {
		t.Fatalf("daemon: %+v", r)
	}
	t.Cleanup(func() { keel(t, home, "logserver", "stop") })
	c := adminClient(t, filepath.Join(home, "logserver"), strings.TrimSpace(r.stdout))
	put(t, c, "keel/dev", "alice/web", "a", "b", "c")
	cmd := exec.Command(scriptBin, "-qec", os.Args[0]+` logs -group keel/dev -query 'stats count(*) as n'`, "/dev/null")
	cmd.Env = append(cleanEnv(), "KEEL_TEST_AS_KEEL=1", "KEEL_HOME="+home, "TERM=xterm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, "Complete: 3 records scanned, 3 matched") || !strings.Contains(s, "\r\033[K") || !strings.Contains(s, "n\r\n-\r\n3") {
		t.Fatalf("terminal output: %q", s)
	}
}
