package deploy

import (
	"os"
	"strings"
	"testing"

	"github.com/keelvm/keel/iampolicy"
)

// TestREADMEPolicies: the policies README's "On AWS" shows are the ones
// keel writes and needs, byte for byte.
func TestREADMEPolicies(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for name, text := range map[string]string{
		"the user's policy":     UserPolicy,
		"the instance's policy": string(iampolicy.ShipOwnLogs("aws", "REGION", "ACCOUNT", "keel/ENV", "USER/APP").Marshal()),
	} {
		if !strings.Contains(readme, text) {
			t.Errorf("README.md does not show %s as keel has it:\n%s", name, text)
		}
	}
}
