package testutil

import (
	"os"
	"testing"
)

// Unavailable reports that something a test needs (QEMU, a kernel, a
// tool) is missing: a failure on CI (CI=true), where make test installs
// everything and such tests are real tests, and a skip elsewhere.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}
