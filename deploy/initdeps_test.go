package deploy

import (
	"os/exec"
	"strings"
	"testing"
)

// TestInitDoesNotLinkDeploy: the init stays lean; none of the deployment's
// AWS clients is linked into it.
func TestInitDoesNotLinkDeploy(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../init").Output()
	if err != nil {
		t.Fatalf("go list -deps ../init: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		switch pkg {
		case "github.com/keelvm/keel/deploy", "github.com/aws/aws-sdk-go-v2/service/ec2", "github.com/aws/aws-sdk-go-v2/service/ebs",
			"github.com/aws/aws-sdk-go-v2/service/iam", "github.com/aws/aws-sdk-go-v2/service/sts":
			t.Errorf("the init links %s", pkg)
		}
	}
}
