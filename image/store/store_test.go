package store

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	cases := []struct {
		in, want, err string
	}{
		{in: "alice/hello:1.0", want: "alice/hello:1.0"},
		{in: "a-b/c_d.e:v1.2.3-rc1+build", want: "a-b/c_d.e:v1.2.3-rc1+build"},
		{in: "alice/hello", err: "no :version"},
		{in: "hello:1.0", err: "no user/ part"},
		{in: "Alice/hello:1.0", err: `user "Alice"`},
		{in: "alice/he llo:1.0", err: `app "he llo"`},
		{in: "alice/hello:", err: `version ""`},
		{in: "alice/hello:../x", err: `version "../x"`},
		{in: "alice/a/b:1", err: `app "a/b"`},
		{in: "../x/y:1", err: `user ".."`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			r, err := ParseRef(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "user/app:version") {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || r.String() != tc.want {
				t.Fatalf("got %v, %v", r, err)
			}
		})
	}
}

func TestStagingCommitLoadVerify(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	ref, _ := ParseRef("alice/hello:1.0")
	if _, err := s.Load(ref); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "keel fuse") {
		t.Fatalf("load of a missing image: %v", err)
	}
	write := func(force bool, content string) error {
		st, err := s.Begin(ref, force)
		if err != nil {
			return err
		}
		os.WriteFile(filepath.Join(st.Dir, "initrd.img"), []byte(content), 0o644)
		m := Manifest{Name: ref.String(), Target: "qemu"}
		return st.Commit(&m)
	}
	if err := write(false, "one"); err != nil {
		t.Fatal(err)
	}
	if err := write(false, "two"); err == nil || !strings.Contains(err.Error(), "already exists") || !strings.Contains(err.Error(), "-force") {
		t.Fatalf("second write without force: %v", err)
	}
	if err := write(true, "three"); err != nil {
		t.Fatal(err)
	}
	m, err := s.Load(ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Artifacts) != 1 || m.Artifacts[0].Name != "initrd.img" || m.Artifacts[0].Size != 5 || m.Artifacts[0].SHA256 != SumBytes([]byte("three")) {
		t.Fatalf("artifacts %+v", m.Artifacts)
	}
	if err := s.Verify(ref, m); err != nil {
		t.Fatal(err)
	}
	if got := s.List(); len(got) != 1 || got[0] != "alice/hello:1.0" {
		t.Fatalf("list %v", got)
	}
	// Nothing but the image is left in its parent: no staging leftovers.
	ents, _ := os.ReadDir(filepath.Dir(s.Path(ref)))
	if len(ents) != 1 {
		t.Fatalf("leftovers beside the image: %v", ents)
	}
	os.WriteFile(filepath.Join(s.Path(ref), "initrd.img"), []byte("tampered"), 0o644)
	if err := s.Verify(ref, m); err == nil || !strings.Contains(err.Error(), "has changed since it was fused") {
		t.Fatalf("verify of a changed artifact: %v", err)
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	ref, _ := ParseRef("alice/hello:2")
	st, err := s.Begin(ref, false)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(st.Dir, "vmlinuz"), []byte("x"), 0o644)
	st.Abort()
	ents, _ := os.ReadDir(filepath.Dir(s.Path(ref)))
	if len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}
}

// TestAbortAllDuringCommit: a signal's AbortAll racing a Commit (with
// -force over an older image) leaves either the new image whole or the old
// one untouched, and nothing else in the store.
func TestAbortAllDuringCommit(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	ref, _ := ParseRef("alice/hello:3")
	write := func(content string) *Staging {
		st, err := s.Begin(ref, true)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(st.Dir, "initrd.img"), []byte(content), 0o644)
		return st
	}
	if err := write("old").Commit(&Manifest{Name: ref.String()}); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		st := write("new")
		done := make(chan error, 1)
		go func() { done <- st.Commit(&Manifest{Name: ref.String()}) }()
		AbortAll()
		err := <-done
		m, lerr := s.Load(ref)
		if lerr != nil {
			t.Fatalf("round %d: commit %v; the image is unreadable: %v", i, err, lerr)
		}
		if verr := s.Verify(ref, m); verr != nil || len(m.Artifacts) != 1 {
			t.Fatalf("round %d: commit %v; the image is damaged: %v, %+v", i, err, verr, m.Artifacts)
		}
		if ents, _ := os.ReadDir(filepath.Dir(s.Path(ref))); len(ents) != 1 {
			t.Fatalf("round %d: commit %v; beside the image: %v", i, err, ents)
		}
	}
}

// TestBeginSweepsStaleStaging: staging directories whose fuse was killed
// outright go at the next Begin of that version; a live one stays.
func TestBeginSweepsStaleStaging(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	ref, _ := ParseRef("alice/hello:4")
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	parent := filepath.Dir(s.Path(ref))
	stale := filepath.Join(parent, fmt.Sprintf(".4.tmp-%d-123", dead.Process.Pid))
	live := filepath.Join(parent, fmt.Sprintf(".4.tmp-%d-456", os.Getpid()))
	for _, d := range []string{stale, live} {
		if err := os.MkdirAll(filepath.Join(d, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.Begin(ref, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Abort()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the killed fuse's staging directory is still there: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a live fuse's staging directory went: %v", err)
	}
}
