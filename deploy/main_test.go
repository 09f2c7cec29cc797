package deploy

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/keelvm/keel/internal/testutil"
)

// moto is the package's moto_server, shared by its tests; nil with
// motoErr when it could not start.
var (
	moto    *testutil.Moto
	motoErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "keel-deploy-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	moto, motoErr = testutil.StartMoto(dir)
	if moto != nil {
		// The standard configuration, pointed at moto through the
		// per-service endpoint settings, as a user would.
		for k := range strings.SplitSeq("AWS_PROFILE AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_SESSION_TOKEN", " ") {
			os.Unsetenv(k)
		}
		for _, kv := range append(moto.Env("AKIDTEST", "secret"), "AWS_EC2_METADATA_DISABLED=true",
			"AWS_CONFIG_FILE="+dir+"/none", "AWS_SHARED_CREDENTIALS_FILE="+dir+"/none") {
			k, v, _ := strings.Cut(kv, "=")
			os.Setenv(k, v)
		}
	}
	code := m.Run()
	moto.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

// clients connects to the package's moto_server (a failure on CI, a skip
// elsewhere when there is none).
func clients(t *testing.T) *Clients {
	t.Helper()
	if moto == nil {
		testutil.Unavailable(t, "moto_server: %v", motoErr)
	}
	c, err := Connect(context.Background(), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	return c
}
