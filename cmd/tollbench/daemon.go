package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tollgate-db/tollgate/internal/devprof"
)

// daemon is a long-running child process (control, an agent,
// nats-server) with its output in a log file.
type daemon struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
}

// startDaemon starts bin with args and env; its output goes to logPath.
// It is not bound to a context: stop ends it with SIGTERM, so it shuts
// down as in production. If tollbench dies, the kernel sends it SIGTERM.
func startDaemon(name, logPath string, env []string, bin string, args ...string) (*daemon, error) {
	logF, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = profileEnv(env, name)
	cmd.Stdout, cmd.Stderr = logF, logF
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logF.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	d := &daemon{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logF.Close()
		close(d.done)
	}()
	return d, nil
}

// profileEnv gives a daemon's Go profiles (--pprof) a dir of its own,
// named after it, under the one in env.
func profileEnv(env []string, name string) []string {
	prefix := devprof.EnvDir + "="
	for i, kv := range env {
		if dir, ok := strings.CutPrefix(kv, prefix); ok && dir != "" {
			slug := strings.Map(func(r rune) rune {
				if r == ' ' || r == '/' || r == ':' {
					return '-'
				}
				return r
			}, name)
			out := slices.Clone(env)
			out[i] = prefix + filepath.Join(dir, slug)
			return out
		}
	}
	return env
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// tail is the end of the daemon's log, for error messages.
func (d *daemon) tail() string {
	b, _ := os.ReadFile(d.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

func (d *daemon) stop() {
	if d == nil || d.exited() {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// waitFor polls cond until it holds, the daemon exits or a minute
// passes.
func (d *daemon) waitFor(ctx context.Context, what string, cond func() bool) error {
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if d.exited() {
			return fmt.Errorf("%s: %s exited:\n%s", what, d.name, d.tail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within 1m; %s log:\n%s", what, d.name, d.tail())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// runCmd runs bin to completion and returns its stdout; a failure says
// both outputs.
func runCmd(ctx context.Context, env []string, stdin, bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w\n%s%s", bin, strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String(), nil
}

// freePort is a loopback port free at the time of the call.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freeAddr is 127.0.0.1:<free port>.
func freeAddr() (string, error) {
	p, err := freePort()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("127.0.0.1:%d", p), nil
}

// listening reports whether addr accepts TCP connections.
func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
