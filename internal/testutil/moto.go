package testutil

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Moto is a moto_server (AWS's stand-in for tests) on 127.0.0.1, started
// by a test package and stopped by its PID.
type Moto struct {
	Endpoint string // http://127.0.0.1:PORT
	cmd      *exec.Cmd
	exited   chan struct{}
}

// StartMoto starts moto_server on a free loopback port with env added to
// the environment (for example INITIAL_NO_AUTH_ACTION_COUNT=N to make it
// enforce IAM policies after N requests), and waits until it accepts
// connections. Its output goes to a file in dir. A missing moto_server is
// an error that says so; callers turn it into Unavailable.
func StartMoto(dir string, env ...string) (*Moto, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("moto_server is not installed (pip install 'moto[server]'): %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	logPath := filepath.Join(dir, "moto-"+port+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", port)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: moto_server may start helpers, all stopped
	// with it by Stop. Pdeathsig: a test binary that panics or hits
	// -timeout never calls Stop, and the kernel kills the server then.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	exited := make(chan struct{})
	m := &Moto{Endpoint: "http://" + addr, cmd: cmd, exited: exited}
	go func() { cmd.Wait(); close(exited) }()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		select {
		case <-exited:
			b, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("moto_server exited at start:\n%s", b)
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return m, nil
		}
	}
	m.Stop()
	return nil, fmt.Errorf("moto_server did not listen on %s within 60 s", addr)
}

// Stop ends the server (its process group, by PID).
func (m *Moto) Stop() {
	if m == nil || m.cmd.Process == nil {
		return
	}
	syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(5 * time.Second):
		syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		<-m.exited
	}
}

// Env is the environment that points every AWS service keel uses at the
// server through the SDK's per-service endpoint settings, with the given
// credentials.
func (m *Moto) Env(keyID, secret string) []string {
	env := []string{"AWS_ACCESS_KEY_ID=" + keyID, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_REGION=us-east-1"}
	for _, s := range []string{"EC2", "EBS", "IAM", "STS", "CLOUDWATCH_LOGS"} {
		env = append(env, "AWS_ENDPOINT_URL_"+s+"="+m.Endpoint)
	}
	return env
}
