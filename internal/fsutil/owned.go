package fsutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// MkdirOwned makes a staging directory in parent named prefix, this
// process's pid and a random part. It first removes the directories of
// that prefix whose process is gone: a program killed outright (SIGKILL, a
// crash) runs no cleanup, and nothing else would remove what it staged. A
// directory of a process at work, this one or another, is kept, as is one
// not named this way.
func MkdirOwned(parent, prefix string) (string, error) {
	names, _ := filepath.Glob(filepath.Join(parent, globEscape(prefix)+"*"))
	for _, n := range names {
		pidText, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(n), prefix), "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 {
			continue // not named by MkdirOwned: not ours to judge
		}
		if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			os.RemoveAll(n)
		}
	}
	return os.MkdirTemp(parent, fmt.Sprintf("%s%d-", prefix, os.Getpid()))
}

// globEscape quotes the characters filepath.Match treats specially.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(s)
}
