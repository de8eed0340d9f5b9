// Package serve runs `kabinet serve` as a process of its own, for the
// benchmarks that kill it half-way and start it again (bench/crash,
// bench/cardpay).
package serve

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Build compiles ./cmd/kabinet to bin; it runs from the repository root.
func Build(bin string) error {
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/kabinet").CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build ./cmd/kabinet (run from the repository root): %v\n%s", err, out)
	}
	return nil
}

// FreeAddr is a loopback address with a port nobody listens on now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Server is a running `kabinet serve`.
type Server struct {
	cmd  *exec.Cmd
	done chan error
}

// Start runs `bin --config cfg serve --addr addr`, its output to logf and
// env added to this process's environment, and returns once its /healthz
// answers 200. It is an outside process, so there is no clock to move: it
// polls, and gives up after a minute.
func Start(bin, cfg, addr string, logf *os.File, env ...string) (*Server, error) {
	cmd := exec.Command(bin, "--config", cfg, "serve", "--addr", addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("kabinet serve exited at start: %v (log %s)", err, logf.Name())
		default:
		}
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	s.Kill()
	return nil, errors.New("kabinet serve did not answer /healthz within a minute (log " + logf.Name() + ")")
}

// Kill ends the server as a crash would (SIGKILL) and waits for it.
func (s *Server) Kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// Stop asks the server to shut down (SIGTERM) and returns how it ended.
func (s *Server) Stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	return <-s.done
}

// CPU is the user and system time the ended server used.
func (s *Server) CPU() time.Duration {
	if s.cmd.ProcessState == nil {
		return 0
	}
	return s.cmd.ProcessState.UserTime() + s.cmd.ProcessState.SystemTime()
}
