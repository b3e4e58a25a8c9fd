package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"github.com/tollgate-db/tollgate/internal/testio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// nodeDir holds node-postgres for the tests (package.json, lock file).
const nodeDir = "testdata/node"

// nodeInstall is what installs node-postgres for these tests.
const nodeInstall = "apt-get install -y nodejs npm && npm ci --prefix agent/gateway/testdata/node"

// nodeClient is fidelity.js running one scenario: lines of JSON out,
// commands in.
type nodeClient struct {
	t     *testing.T
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan map[string]any
	errb  *testio.Buffer
	done  chan error
}

// startNode runs scenario of testdata/node/fidelity.js with the route's
// node-postgres config. A machine without node or node-postgres fails the
// test with the command that installs them.
func startNode(t *testing.T, scenario string, cfg map[string]any) *nodeClient {
	t.Helper()
	node, err := exec.LookPath("node")
	require.NoError(t, err, "node not found: %s", nodeInstall)
	_, err = os.Stat(filepath.Join(nodeDir, "node_modules", "pg", "package.json"))
	require.NoError(t, err, "node-postgres not installed: %s", nodeInstall)
	raw, err := json.Marshal(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, node, filepath.Join(nodeDir, "fidelity.js"), scenario, string(raw))
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	n := &nodeClient{t: t, cmd: cmd, in: in, lines: make(chan map[string]any, 16), errb: &testio.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = n.errb
	require.NoError(t, cmd.Start())
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				n.lines <- m
			}
		}
		close(n.lines)
		n.done <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = in.Close() })
	return n
}

// next returns the next line that has key.
func (n *nodeClient) next(key string) map[string]any {
	n.t.Helper()
	for m := range n.lines {
		if f, ok := m["fatal"]; ok {
			n.t.Fatalf("node-postgres: %v\n%s", f, n.errb.String())
		}
		if _, ok := m[key]; ok {
			return m
		}
	}
	n.t.Fatalf("node-postgres ended before %q: %v\n%s", key, <-n.done, n.errb.String())
	return nil
}

func (n *nodeClient) send(cmd string) {
	_, err := io.WriteString(n.in, cmd+"\n")
	require.NoError(n.t, err)
}

// wait requires a clean exit.
func (n *nodeClient) wait() {
	n.t.Helper()
	for range n.lines {
	}
	require.NoError(n.t, <-n.done, n.errb.String())
}

// num reads a JSON number field.
func num(t *testing.T, m map[string]any, key string) uint32 {
	t.Helper()
	f, ok := m[key].(float64)
	require.True(t, ok, "%s in %v", key, m)
	return uint32(f)
}

// interactivePsql is psql on a terminal (script(1) gives it one), so it
// prompts, with the backend PID libpq has from BackendKeyData in its
// prompt (%p), and resets a lost connection as a person's psql does.
type interactivePsql struct {
	t    *testing.T
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *testio.Buffer
	done chan error
}

var promptPID = regexp.MustCompile(`pid=(\d+)> `)

func startInteractivePsql(t *testing.T, conn string) *interactivePsql {
	t.Helper()
	script, err := exec.LookPath("script")
	require.NoError(t, err, "script(1) not found: apt-get install -y bsdutils")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	psql := "psql -X -n -P pager=off -v PROMPT1='pid=%p> ' " + shellQuote(conn)
	cmd := exec.CommandContext(ctx, script, "-qefc", psql, "/dev/null")
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=20", "TERM=dumb")
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	p := &interactivePsql{t: t, cmd: cmd, in: in, out: &testio.Buffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	require.NoError(t, cmd.Start())
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { _ = in.Close() })
	return p
}

// pids returns the backend PIDs psql's prompts showed so far.
func (p *interactivePsql) pids() []uint32 {
	var out []uint32
	for _, m := range promptPID.FindAllStringSubmatch(p.out.String(), -1) {
		n, _ := strconv.ParseUint(m[1], 10, 32)
		if len(out) == 0 || out[len(out)-1] != uint32(n) {
			out = append(out, uint32(n))
		}
	}
	return out
}

func (p *interactivePsql) send(line string) {
	_, err := io.WriteString(p.in, line+"\n")
	require.NoError(p.t, err)
}

// waitFor waits until psql printed re.
func (p *interactivePsql) waitFor(re string) {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	require.Eventually(p.t, func() bool { return rx.MatchString(p.out.String()) }, 60*time.Second, 20*time.Millisecond,
		"psql printed %s; it printed:\n%s", re, p.out)
}

func (p *interactivePsql) quit() {
	p.t.Helper()
	p.send(`\q`)
	require.NoError(p.t, <-p.done, p.out.String())
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// psqlCancel runs psql -c "select pg_sleep(30)" with application_name
// app, waits until the statement runs, sends psql SIGINT (Ctrl-C: libpq
// sends a CancelRequest to the host and port it connected to) and returns
// psql's output and exit code.
func (h *harness) psqlCancel(t *testing.T, conn, app string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "psql", "-X", conn+" application_name="+app, "-c", "select pg_sleep(30)")
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=20")
	out := &testio.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	h.waitActive(t, app, "select pg_sleep(30)")
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return out.String(), code
}
