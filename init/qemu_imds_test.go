package main

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/imds"
	"github.com/keelvm/keel/internal/qemu"
)

// TestQEMUIMDS boots an image on a link-local network with a local IMDSv2
// at 169.254.169.254, as keel run and EC2 give it, in two launches of the
// same image: an instance without an instance profile (IMDS answers 404
// for the role: the console names the fix and the app still runs), and
// user data with an unknown key (the machine powers off, the key named,
// the app never started).
func TestQEMUIMDS(t *testing.T) {
	k := requireQEMU(t)
	initrd := image(t, t.TempDir(), k, bootcfg.Config{App: "/app/hello", Args: []string{"3"},
		Logs: &bootcfg.Logs{Group: "keel/test", Stream: "alice/imds"}})
	cases := []struct {
		name, userData string
		want, not      []string
	}{
		{"no instance profile", "# keel run's\nkeel.logs.endpoint=http://169.254.0.100:4566 keel.env=FROM=userdata\n",
			[]string{"instance identity: instance i-0123456789abcdef0 in eu-west-3", "user data: applied",
				"attach an instance profile whose role allows logs:CreateLogStream and logs:PutLogEvents on arn:aws:logs:eu-west-3:ACCOUNT:log-group:keel/test:log-stream:alice/imds and arn:aws:logs:eu-west-3:ACCOUNT:log-group:keel/test:log-stream:alice/imds/*",
				"hello stdout 0", "app exited with code 3", "powering off (status 3)"},
			[]string{"logs: shipping"}},
		{"malformed user data", "keel.wait=network\nkeel.colour=blue\n",
			[]string{`user data line 2: unknown key "keel.colour"`, "powering off (status 1)"},
			[]string{"hello stdout 0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(&imds.Server{InstanceID: "i-0123456789abcdef0", Region: "eu-west-3", UserData: []byte(tc.userData)})
			defer srv.Close()
			vm, err := qemu.Start(qemu.Config{Kernel: k.Vmlinuz, Initrd: initrd, Dir: t.TempDir(), IMDS: strings.TrimPrefix(srv.URL, "http://"),
				Cmdline: "console=ttyS0 panic=-1"})
			if err != nil {
				t.Fatal(err)
			}
			defer vm.Kill() // a failed test leaves no VM behind
			ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
			defer cancel()
			if err := vm.Wait(ctx); err != nil {
				t.Fatalf("VM did not power off: %v\nconsole:\n%s", err, vm.Console())
			}
			console := vm.Console()
			for _, w := range tc.want {
				if !strings.Contains(console, w) {
					t.Errorf("console lacks %q", w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(console, w) {
					t.Errorf("console has %q", w)
				}
			}
			if t.Failed() {
				t.Logf("console:\n%s", console)
			}
		})
	}
}
