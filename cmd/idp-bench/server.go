package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// server is an `idp serve` process started by the bench.
type server struct {
	cmd       *exec.Cmd
	issuer    string
	pprofAddr string // "" unless profiling was asked for
	metrics   string // its IDP_METRICS_LISTEN (the store counters)
	logPath   string
	exited    chan struct{}
	exitErr   error
}

// startServer runs bin serve on a free loopback port with env on top of the
// bench's own environment, and waits until /readyz answers 200.
func startServer(ctx context.Context, bin, logPath string, env map[string]string, withPprof bool) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s := &server{issuer: "http://" + addr, logPath: logPath, exited: make(chan struct{})}
	env["IDP_ISSUER"], env["IDP_LISTEN"] = s.issuer, addr
	if _, set := env["IDP_AUTHORIZE_PER_IP_MINUTE"]; !set {
		// Every simulated browser comes from this one address.
		env["IDP_AUTHORIZE_PER_IP_MINUTE"] = "1000000"
	}
	if _, set := env["IDP_AUTHORIZE_PER_IP_BURST"]; !set {
		// The flood brings 1,000 browsers at once (at most the default budget).
		env["IDP_AUTHORIZE_PER_IP_BURST"] = "50000"
	}
	if m, err := freePort(); err == nil {
		s.metrics = fmt.Sprintf("127.0.0.1:%d", m)
		env["IDP_METRICS_LISTEN"] = s.metrics
	}
	if withPprof {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		s.pprofAddr = fmt.Sprintf("127.0.0.1:%d", p)
		env["IDP_PPROF_LISTEN"] = s.pprofAddr
	}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = mergeEnv(os.Environ(), env)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		s.exitErr = s.cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w (server log: %s)", err, logPath)
	}
	return s, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// alive reports whether the process is still running.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

func (s *server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	hc := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		if !s.alive() {
			return fmt.Errorf("idp serve exited: %v", s.exitErr)
		}
		if resp, err := hc.Get(s.issuer + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		sleep(ctx, 200*time.Millisecond)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return errors.New("idp serve did not become ready in time")
}

// stop sends SIGTERM (graceful shutdown) and kills the process if it has
// not exited after 25 s. It signals only the process it started.
func (s *server) stop() error {
	if !s.alive() {
		return s.exitErr
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(25 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	return s.exitErr
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// mergeEnv returns base with the variables of over replacing or added.
func mergeEnv(base []string, over map[string]string) []string {
	out := make([]string, 0, len(base)+len(over))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := over[k]; !ok {
			out = append(out, kv)
		}
	}
	for k, v := range over {
		out = append(out, k+"="+v)
	}
	return out
}
