package main

import (
	"os/exec"
	"strings"
	"testing"
)

// initTags are the build tags of the init, as the Makefile, the bench and
// vmtest build it: nethttpomithttp2 leaves net/http's HTTP/2 out (~390 KB;
// the init speaks HTTP/1.1 to IMDS and CloudWatch Logs).
const initTags = "nethttpomithttp2"

// TestInitLinksNoServicePackage: the init links aws-sdk-go-v2's core
// (credentials, the SigV4 signer) but no service package: the CloudWatch
// Logs client's initialisation alone cost ~39 ms of every boot under TCG
// and half the binary (docs/lean-init.md). Its shipper speaks through
// shipper/cwlhttp.
func TestInitLinksNoServicePackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", initTags, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	for _, p := range deps {
		if strings.HasPrefix(p, "github.com/aws/aws-sdk-go-v2/service/") {
			t.Errorf("the init links %s", p)
		}
	}
	for _, want := range []string{"github.com/keelvm/keel/shipper/cwlhttp", "github.com/aws/aws-sdk-go-v2/aws/signer/v4"} {
		if !strings.Contains(" "+strings.Join(deps, " ")+" ", " "+want+" ") {
			t.Errorf("the init does not link %s: is the test looking at the right package?", want)
		}
	}
}
