package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keelvm/keel/bootcfg"
)

// discarded says whether l was dropped (no shipper will come).
func discarded(l *heldLog) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.discard
}

// TestShutdownWaitsForBringUp: a stop asked for while the network comes
// up. shutdown reads the configuration only once the bring-up is past
// user data (no data race: go test -race), so that logs user data adds
// are seen; a bring-up that never gets there is bounded by the flush
// timeout.
func TestShutdownWaitsForBringUp(t *testing.T) {
	logs := &bootcfg.Logs{Group: "g", Stream: "s"}
	cases := []struct {
		name      string
		image     *bootcfg.Logs
		userData  string
		stuck     bool // the bring-up never closes netDone
		waitsDone bool // shutdown must return only after done closed
		dropped   bool // the held app log is dropped
	}{
		// A stop before the app's start in an image without logs does not
		// wait for the network (TestQEMUPowerButtonBeforeTheApp): the
		// user data's logs come, race-free, after shutdown returned.
		{"user data adds logs", nil, "keel.logs.group=g\nkeel.logs.stream=s\n", false, false, false},
		{"image logs", logs, "keel.app=/bin/app\n", false, true, false},
		{"no logs at all", nil, "keel.app=/bin/app\n", false, false, false},
		{"stuck, image logs", logs, "", true, false, true},
		{"stuck, no logs", nil, "", true, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := bootcfg.Config{App: "/bin/true", Wait: "network", Logs: tc.image}
			p := newPlatform(cfg)
			p.md.userData = []byte(tc.userData)
			var doneAt time.Time
			if !tc.stuck {
				go func() {
					time.Sleep(30 * time.Millisecond)
					p.applyUserData()
					close(p.netDone)
					<-p.appStarted
					time.Sleep(30 * time.Millisecond)
					doneAt = time.Now()
					close(p.done)
				}()
			}
			const d = 300 * time.Millisecond
			start := time.Now()
			p.shutdown(d)
			took := time.Since(start)
			if tc.stuck && tc.image == nil {
				// Nothing to flush: a stuck bring-up holds nothing up.
				if took >= d {
					t.Errorf("shutdown took %v: waited for a bring-up with no logs to flush", took)
				}
			} else if tc.stuck {
				if took < d || took > d+time.Second {
					t.Errorf("shutdown took %v, want the flush timeout %v", took, d)
				}
			} else {
				<-p.netDone
				if took >= d {
					t.Errorf("shutdown took %v: waited out the flush timeout", took)
				}
			}
			if tc.waitsDone && (doneAt.IsZero() || time.Now().Before(doneAt)) {
				t.Errorf("shutdown returned before the bring-up was done")
			}
			if !tc.stuck {
				<-p.done
			}
			p.mu.Lock()
			appLog := p.appLog
			p.mu.Unlock()
			if tc.userData != "" && strings.Contains(tc.userData, "logs") && appLog == nil {
				t.Errorf("user data's logs made no app log")
			}
			if appLog != nil && discarded(appLog) != tc.dropped {
				t.Errorf("app log dropped: %v, want %v", discarded(appLog), tc.dropped)
			}
		})
	}
}

// TestLateUserData: keel.wait=none reads user data after the app started.
func TestLateUserData(t *testing.T) {
	image := &bootcfg.Logs{Group: "g", Stream: "s"}
	withUser := &bootcfg.Logs{Group: "g", Stream: "s", Region: "eu-west-3"}
	cases := []struct {
		name          string
		image, user   *bootcfg.Logs
		late          *bootcfg.Logs
		want, wantNot string
	}{
		{"image logs, user data changes them", image, withUser, withUser, "applied to the logs only", "ignored"},
		{"no image logs, user data adds them", nil, withUser, nil, "ignored, logs included", "applied"},
		{"no logs anywhere", nil, nil, nil, "ignored: keel.wait=none", "applied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			late, msg := lateUserData(tc.image, tc.user)
			if late != tc.late {
				t.Errorf("late logs %+v, want %+v", late, tc.late)
			}
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, tc.wantNot) {
				t.Errorf("message %q: want %q, not %q", msg, tc.want, tc.wantNot)
			}
		})
	}
}

// TestNoCredentials: a VM whose logs would wait for an instance role
// with no IMDS to ask gets the console only, at once.
func TestNoCredentials(t *testing.T) {
	key := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(key, []byte("[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bootcfg.DefaultCredentials); err == nil {
		t.Fatalf("%s exists on this machine: the role cases need it absent", bootcfg.DefaultCredentials)
	}
	was := ownsMachine
	t.Cleanup(func() { ownsMachine = was })
	cases := []struct {
		name        string
		vm, imdsOK  bool
		credentials string
		want        bool
	}{
		{"VM, role, no IMDS", true, false, "", true},
		{"VM, role, IMDS answered", true, true, "", false},
		{"VM, key file, no IMDS", true, false, key, false},
		{"container, its chain", false, false, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ownsMachine = tc.vm
			t.Setenv("AWS_ACCESS_KEY_ID", "")
			t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
			t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
			creds, err := logCredentials(&bootcfg.Logs{Group: "g", Stream: "s", Credentials: tc.credentials})
			if err != nil {
				t.Fatal(err)
			}
			p := &platform{imdsOK: tc.imdsOK}
			if got := p.noCredentials(creds); got != tc.want {
				t.Errorf("noCredentials = %v, want %v (credentials: %s)", got, tc.want, creds.what)
			}
		})
	}
}

// TestNoRoleHint: the fix named is the deployment's own policy, not a
// prefix that grants other apps' streams.
func TestNoRoleHint(t *testing.T) {
	got := noRoleHint(&bootcfg.Logs{Group: "keel/test", Stream: "alice/imds"}, "eu-west-3")
	arn := "arn:aws:logs:eu-west-3:ACCOUNT:log-group:keel/test:log-stream:alice/imds"
	for _, w := range []string{"logs:CreateLogStream and logs:PutLogEvents on " + arn + " and " + arn + "/* ;", "no instance profile"} {
		if !strings.Contains(got, w) {
			t.Errorf("hint %q lacks %q", got, w)
		}
	}
	if strings.Contains(got, "imds*") {
		t.Errorf("hint %q grants a prefix", got)
	}
}

// TestCheckContainerEndpoint: the SDK's rule for where the container
// authorization token may go.
func TestCheckContainerEndpoint(t *testing.T) {
	cases := []struct {
		uri string
		ok  bool
	}{
		{"http://169.254.170.2/v2/credentials/x", true},
		{"http://169.254.170.23/v1/credentials", true},
		{"http://[fd00:ec2::23]/v1/credentials", true},
		{"http://127.0.0.1:8080/creds", true},
		{"http://[::1]:8080/creds", true},
		{"http://localhost:8080/creds", true},
		{"https://creds.example.com/x", true},
		{"HTTPS://203.0.113.7/x", true},
		{"http://203.0.113.7/creds", false},
		{"http://169.254.169.254/latest", false},
		{"http://[fd00:ec2::254]/x", false},
		{"ftp://127.0.0.1/x", false},
		{"http:///nohost", false},
		{"http://no-such-host.invalid/x", false},
	}
	for _, tc := range cases {
		err := checkContainerEndpoint(tc.uri)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok %v", tc.uri, err, tc.ok)
		}
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://203.0.113.7/creds")
	t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "token")
	if _, err := containerCredentials(); err == nil || !strings.Contains(err.Error(), "in the clear") {
		t.Errorf("containerCredentials with a remote http endpoint: %v, want a refusal", err)
	}
}
