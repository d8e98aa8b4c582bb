//go:build linux

package main

// Child processes of the multi-node and blink tests: the idp binary, nodes
// running `idp serve`, and free ports for them. Every process is started by
// the test, killed by its own pid in t.Cleanup, and gets SIGKILL from the
// kernel if the test binary dies first (Pdeathsig).

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildIDP builds the idp binary into the test's temp dir (with -race when
// the tests run with it, so the nodes are race-checked too).
func buildIDP(t *testing.T) string {
	t.Helper()
	start := time.Now()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "idp")
	args := []string{"build", "-o", bin}
	if raceBuild {
		args = append(args, "-race")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool, append(args, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build the idp binary: %v\n%s", err, out)
	}
	t.Logf("built the idp binary in %v (race=%v)", time.Since(start).Round(time.Millisecond), raceBuild)
	return bin
}

// freePort returns a port that was free a moment ago, chosen below the
// kernel's ephemeral range so that outgoing connections (of this or other
// tests) cannot take it before the child process binds it.
func freePort(t *testing.T) int {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 12000 {
				low = n
			}
		}
	}
	for range 200 {
		port := 10000 + rand.IntN(low-10000)
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no free port found")
	return 0
}

// childEnv is the environment without IDP_* variables of our own, plus vars.
func childEnv(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "IDP_") {
			env = append(env, kv)
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// runIDP runs an operator command of the binary and returns its stdout.
func runIDP(t *testing.T, bin string, env map[string]string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = childEnv(env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("idp %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// nodeProc is one `idp serve` process.
type nodeProc struct {
	t       *testing.T
	name    string
	addr    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
}

// startNode starts `idp serve` on a free port and waits until /readyz
// answers 200. A port taken meanwhile is retried on another.
func startNode(t *testing.T, bin, name string, env map[string]string) *nodeProc {
	t.Helper()
	for attempt := 0; ; attempt++ {
		n := launchNode(t, bin, name, env)
		err := n.waitReady(60 * time.Second)
		if err == nil {
			return n
		}
		if attempt < 2 && strings.Contains(n.log(), "address already in use") {
			continue
		}
		t.Fatalf("node %s: %v\n%s", name, err, n.log())
	}
}

// launchNode starts the process without waiting for it.
func launchNode(t *testing.T, bin, name string, env map[string]string) *nodeProc {
	t.Helper()
	vars := map[string]string{}
	for k, v := range env {
		vars[k] = v
	}
	n := &nodeProc{t: t, name: name, addr: "127.0.0.1:" + strconv.Itoa(freePort(t)), exited: make(chan struct{})}
	vars["IDP_LISTEN"] = n.addr
	n.logPath = filepath.Join(t.TempDir(), "node-"+name+".log")
	logf, err := os.Create(n.logPath)
	if err != nil {
		t.Fatal(err)
	}
	n.cmd = exec.Command(bin, "serve")
	n.cmd.Env = childEnv(vars)
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := n.cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start node %s: %v", name, err)
	}
	go func() {
		n.waitErr = n.cmd.Wait()
		logf.Close()
		close(n.exited)
	}()
	t.Cleanup(func() {
		n.kill()
		if strings.Contains(n.log(), "DATA RACE") {
			t.Errorf("node %s reported a data race:\n%s", name, n.log())
		} else if t.Failed() {
			t.Logf("log of node %s:\n%s", name, n.log())
		}
	})
	return n
}

func (n *nodeProc) running() bool {
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL to this node's process and waits for it to end.
func (n *nodeProc) kill() {
	if n.running() {
		_ = n.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-n.exited
}

func (n *nodeProc) log() string {
	b, _ := os.ReadFile(n.logPath)
	const max = 8 << 10
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

func (n *nodeProc) waitReady(timeout time.Duration) error {
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if !n.running() {
			return fmt.Errorf("exited before it was ready: %v", n.waitErr)
		}
		if resp, err := c.Get("http://" + n.addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %v", timeout)
}
