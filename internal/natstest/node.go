package natstest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// node is one nats-server process and what it keeps across restarts.
type node struct {
	bin, name, dir        string
	clientPort, routePort int
	cmd                   *exec.Cmd
	done                  chan struct{}
}

func (n *node) confPath() string { return filepath.Join(n.dir, "nats-server.conf") }
func (n *node) logPath() string  { return filepath.Join(n.dir, "nats-server.log") }
func (n *node) addr() string     { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.clientPort)) }

func (n *node) url(tls bool) string {
	if tls {
		return "tls://" + n.addr()
	}
	return "nats://" + n.addr()
}

// config is the node's nats-server configuration file.
func (n *node) config(routes []string, clustered bool, srv serverTLS) string {
	var b strings.Builder
	fmt.Fprintf(&b, "server_name: %s\nlisten: %q\n", n.name, n.addr())
	fmt.Fprintf(&b, "jetstream {\n  store_dir: %q\n}\n", filepath.Join(n.dir, "store"))
	if srv.CertFile != "" {
		fmt.Fprintf(&b, "tls {\n  cert_file: %q\n  key_file: %q\n  ca_file: %q\n  verify: true\n}\n", srv.CertFile, srv.KeyFile, srv.CAFile)
	}
	if clustered {
		fmt.Fprintf(&b, "cluster {\n  name: natstest\n  listen: \"127.0.0.1:%d\"\n  routes: [\n", n.routePort)
		for _, r := range routes {
			fmt.Fprintf(&b, "    %q\n", r)
		}
		b.WriteString("  ]\n}\n")
	}
	return b.String()
}

func (n *node) start() error {
	if n.cmd != nil {
		return fmt.Errorf("natstest: %s is running", n.name)
	}
	logf, err := os.OpenFile(n.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("natstest: %w", err)
	}
	cmd := exec.Command(n.bin, "-c", n.confPath())
	cmd.Stdout, cmd.Stderr = logf, logf
	// The server dies with the test binary, even a killed one.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("natstest: start %s: %w", n.name, err)
	}
	n.cmd, n.done = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(n.done)
	}()
	return nil
}

// stop ends the process (SIGTERM, then SIGKILL after 30s) and waits for it.
func (n *node) stop() error {
	if n.cmd == nil {
		return nil
	}
	defer func() { n.cmd = nil }()
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
		return nil
	case <-time.After(30 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
		return fmt.Errorf("natstest: %s ignored SIGTERM for 30s and was killed", n.name)
	}
}

// waitListening waits until the client port accepts connections, failing
// at once when the process exits.
func (n *node) waitListening(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		if c, err := net.DialTimeout("tcp", n.addr(), time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-n.done:
			return fmt.Errorf("natstest: %s exited:\n%s", n.name, n.logTail())
		case <-ctx.Done():
			return fmt.Errorf("natstest: %s does not listen on %s:\n%s", n.name, n.addr(), n.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logTail is the end of the node's log, for errors.
func (n *node) logTail() string {
	b, _ := os.ReadFile(n.logPath())
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}
