package testutil

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMotoDiesWithTestBinary: a test binary killed before it can call Stop
// (a panic, -timeout, SIGKILL) leaves no moto_server behind. The binary
// runs itself as the helper below, which starts moto_server, prints its
// PID and waits to be killed.
func TestMotoDiesWithTestBinary(t *testing.T) {
	if os.Getenv("KEEL_TEST_MOTO_ORPHAN") == "1" {
		m, err := StartMoto(os.TempDir())
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("pid", m.cmd.Process.Pid)
		time.Sleep(time.Minute)
		m.Stop()
		os.Exit(1)
	}
	if _, err := exec.LookPath("moto_server"); err != nil {
		Unavailable(t, "moto_server: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMotoDiesWithTestBinary$")
	cmd.Env = append(os.Environ(), "KEEL_TEST_MOTO_ORPHAN=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		t.Fatalf("helper printed nothing: %v", sc.Err())
	}
	line := sc.Text()
	pid, err := strconv.Atoi(strings.TrimPrefix(line, "pid "))
	if err != nil {
		t.Fatalf("helper: %s", line)
	}
	// Should the test fail, the server still goes.
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL) })
	if !alive(pid) {
		t.Fatalf("moto_server %d is not running while its test binary is", pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	for deadline := time.Now().Add(10 * time.Second); alive(pid); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("moto_server %d still runs 10 s after its test binary was killed", pid)
		}
	}
}

// alive reports whether pid is a process that has not exited (a zombie
// has).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
