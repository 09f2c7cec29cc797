package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestReportPrune: a failed removal of expired sessions is said once, with
// the commands that remove them by hand; no failure, nothing said.
func TestReportPrune(t *testing.T) {
	var buf bytes.Buffer
	s := &sessions{prefix: "vm-run-1-u-a", stderr: &buf}
	s.reportPrune(nil)
	if buf.Len() != 0 {
		t.Fatalf("no failure, yet %q", buf.String())
	}
	for range 3 {
		s.reportPrune(errors.New("write keys.json: disk full"))
	}
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "disk full") ||
		!strings.Contains(out, "'keel logserver key delete ID'") || !strings.Contains(out, "vm-run-1-u-a-N") {
		t.Errorf("reported %q; want one line with the error and the commands", out)
	}
}
