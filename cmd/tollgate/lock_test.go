package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/internal/profile"
)

// buildTollgate builds this binary into a temp dir, as e2e does.
func buildTollgate(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tollgate")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// startArgs run a single node on dir with free ports only.
func startArgs(dir string) []string {
	return []string{"start", "--data-dir", dir, "--listen", "127.0.0.1:0", "--cluster-name", "lock-test",
		"--metrics-addr", "none", "--nats-listen", "127.0.0.1:0", "--log-format", "json"}
}

// proc is a `tollgate start` process.
type proc struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	require.NoError(t, p.cmd.Start())
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitServing waits until control answers with the local admin identity
// of dir (or the process exits, which fails the test).
func (p *proc) waitServing(t *testing.T, dir string) {
	t.Helper()
	require.Eventually(t, func() bool {
		select {
		case <-p.done:
			t.Fatalf("tollgate start exited early:\n%s", p.out.String())
		default:
		}
		pr, err := profile.Load(control.AdminDir(dir))
		if err != nil {
			return false
		}
		c, err := client.FromProfile(pr, "")
		if err != nil {
			return false
		}
		defer c.Close()
		_, err = c.Status(context.Background())
		return err == nil
	}, 90*time.Second, 50*time.Millisecond)
}

// TestSecondStartOnADataDirInUse: two real `tollgate start` processes on
// one data dir. The second exits at once with an error naming the first's
// PID, before it opens the event log (no embedded NATS of its own on the
// same store, no rewritten admin identity); the first keeps serving. A
// crash (SIGKILL) of the holder releases the lock: the next start runs.
func TestSecondStartOnADataDirInUse(t *testing.T) {
	t.Parallel()
	bin := buildTollgate(t)
	dir := filepath.Join(t.TempDir(), "data")

	first := startProc(t, bin, startArgs(dir)...)
	first.waitServing(t, dir)
	profileBefore, err := os.ReadFile(filepath.Join(control.AdminDir(dir), "profile.json"))
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	second := exec.CommandContext(ctx, bin, startArgs(dir)...)
	out, err := second.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the second start must fail:\n%s", out)
	require.Equal(t, 1, exit.ExitCode())
	require.Contains(t, string(out), "data dir "+dir+" is in use by PID "+strconv.Itoa(first.cmd.Process.Pid))
	require.NotContains(t, string(out), "event log open", "the second start stops before the event log")
	profileAfter, err := os.ReadFile(filepath.Join(control.AdminDir(dir), "profile.json"))
	require.NoError(t, err)
	require.Equal(t, profileBefore, profileAfter, "the second start leaves the admin identity alone")
	first.waitServing(t, dir)

	// A crash releases the lock.
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	<-first.done
	third := startProc(t, bin, startArgs(dir)...)
	third.waitServing(t, dir)
	require.NoError(t, third.cmd.Process.Signal(syscall.SIGTERM))
	<-third.done
	require.Equal(t, 0, third.cmd.ProcessState.ExitCode(), third.out.String())
}
