package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/tollgate-db/tollgate/internal/testio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/internal/pgtest"
	"github.com/tollgate-db/tollgate/schemas"
)

// world is the test's machine: built binaries, dirs and daemons.
type world struct {
	t           *testing.T
	bin, dir    string
	dataDir     string // control's data dir (tollctl's identity)
	home        string // alice's TOLLGATE_HOME
	mu          sync.Mutex
	daemons     []*daemon
	controlAddr string
	pgBinDir    string
	pgbenchPath string
	psqlPath    string
}

type daemon struct {
	name string
	cmd  *exec.Cmd
	out  *testio.Buffer
	done chan struct{}
}

func repoRoot(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	require.NoError(t, err)
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func newWorld(t *testing.T) *world {
	t.Helper()
	bin, err := pgtest.BinDir()
	if err != nil {
		t.Fatal("PostgreSQL not found: apt-get install -y postgresql")
	}
	w := &world{t: t, dir: t.TempDir(), pgBinDir: bin}
	w.bin = filepath.Join(w.dir, "bin")
	w.dataDir = filepath.Join(w.dir, "control-data")
	w.home = filepath.Join(w.dir, "alice-home")
	if w.psqlPath, err = exec.LookPath("psql"); err != nil {
		t.Fatal("psql not found: apt-get install -y postgresql-client")
	}
	w.pgbenchPath = filepath.Join(bin, "pgbench")
	if _, err := os.Stat(w.pgbenchPath); err != nil {
		if w.pgbenchPath, err = exec.LookPath("pgbench"); err != nil {
			t.Fatal("pgbench not found: apt-get install -y postgresql-contrib")
		}
	}
	build := exec.Command("go", "build", "-o", w.bin+string(os.PathSeparator), "./cmd/tollgate", "./cmd/tollctl", "./cmd/toll")
	build.Dir = repoRoot(t)
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	t.Cleanup(w.stopAll)
	return w
}

// env is the environment of every command: tollctl uses control's local
// admin identity, toll alice's home.
func (w *world) env() []string {
	return append(os.Environ(), "TOLLGATE_DATA_DIR="+w.dataDir, "TOLLGATE_HOME="+w.home, "PGCONNECT_TIMEOUT=20")
}

// run runs a built binary to completion and returns its stdout; a
// non-zero exit fails the test with both outputs.
func (w *world) run(stdin, name string, args ...string) string {
	w.t.Helper()
	out, errs, err := w.try(stdin, name, args...)
	require.NoError(w.t, err, "%s %s\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), out, errs)
	return out
}

func (w *world) try(stdin, name string, args ...string) (string, string, error) {
	path := name
	if !filepath.IsAbs(name) {
		path = filepath.Join(w.bin, name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = w.env()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// start starts a long-running process.
func (w *world) start(name string, args ...string) *daemon {
	w.t.Helper()
	path := name
	if !filepath.IsAbs(name) {
		path = filepath.Join(w.bin, name)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = w.env()
	d := &daemon{name: name + " " + strings.Join(args, " "), cmd: cmd, out: &testio.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = d.out, d.out
	require.NoError(w.t, cmd.Start())
	go func() { _ = cmd.Wait(); close(d.done) }()
	w.mu.Lock()
	w.daemons = append(w.daemons, d)
	w.mu.Unlock()
	return d
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

func (d *daemon) stop(t *testing.T) {
	if d.exited() {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		t.Errorf("%s did not stop on SIGTERM within 30s", d.name)
	}
}

func (w *world) stopAll() {
	w.mu.Lock()
	ds := append([]*daemon(nil), w.daemons...)
	w.mu.Unlock()
	for i := len(ds) - 1; i >= 0; i-- {
		ds[i].stop(w.t)
		if w.t.Failed() {
			w.t.Logf("output of %s:\n%s", ds[i].name, lastLines(ds[i].out.String(), 40))
		}
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, d *daemon, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if d != nil && d.exited() {
			t.Fatalf("%s: %s exited:\n%s", what, d.name, lastLines(d.out.String(), 40))
		}
		if time.Now().After(deadline) {
			msg := ""
			if d != nil {
				msg = lastLines(d.out.String(), 40)
			}
			t.Fatalf("%s: not within 90s\n%s", what, msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var pinRE = regexp.MustCompile(`sha256:[0-9a-f]{64}`)

// controlConfig writes a control config file, the explicit alternative of
// the guide's flags: the API on controlAddr, the embedded NATS listening
// for agents on natsAddr, metrics on a free port, and a JSON lines export
// of the audit stream to exportFile.
func controlConfig(t *testing.T, dir, dataDir, controlAddr, natsAddr, exportFile string) string {
	m := map[string]any{
		"data_dir":     dataDir,
		"cluster_name": "e2e",
		"control":      map[string]any{"listen_addr": controlAddr, "metrics_addr": "127.0.0.1:0"},
		"nats":         map[string]any{"listen_addr": natsAddr},
		"export": map[string]any{"sinks": []any{map[string]any{
			"name": "siem", "type": "file", "file": map[string]any{"path": exportFile}}}},
	}
	out, err := yaml.Marshal(m)
	require.NoError(t, err)
	p := filepath.Join(dir, "control.yaml")
	require.NoError(t, os.WriteFile(p, out, 0o600))
	return p
}

// TestSeedGuide follows the seed guide with the built binaries.
func TestSeedGuide(t *testing.T) {
	w := newWorld(t)
	cport, aport, nport := freePort(t), freePort(t), freePort(t)
	w.controlAddr = "127.0.0.1:" + strconv.Itoa(cport)

	// Prerequisite: a running cluster; `tctl status` prints the CA pin.
	// `tollgate start` with no config file: its embedded NATS listens for
	// agents on other hosts by default (TLS, joined agents' host certs);
	// the flags only move every listener to free loopback ports.
	control := w.start("tollgate", "start", "--data-dir", w.dataDir, "--cluster-name", "e2e", "--listen", w.controlAddr,
		"--nats-listen", "127.0.0.1:"+strconv.Itoa(nport), "--metrics-addr", "127.0.0.1:0", "--log-format", "text")
	var status string
	eventually(t, "tollctl status answers", control, func() bool {
		out, _, err := w.try("", "tollctl", "status")
		status = out
		return err == nil
	})
	require.Contains(t, status, "e2e")
	pin := pinRE.FindString(status)
	require.NotEmpty(t, pin, status)

	// Step 2/4: create a user with the built-in access role.
	out := w.run("", "tollctl", "users", "add", "--roles=access", `--db-users=*`, `--db-names=*`, "alice")
	signup := regexp.MustCompile(`toll signup \S.*`).FindString(out)
	require.NotEmpty(t, signup, out)
	invite := regexp.MustCompile(`--invite[= ](\S+)`).FindStringSubmatch(signup)
	require.Len(t, invite, 2, signup)
	proxy := regexp.MustCompile(`--proxy[= ](\S+)`).FindStringSubmatch(signup)
	require.Len(t, proxy, 2, signup)
	require.Equal(t, w.controlAddr, proxy[1])
	out = w.run("correct horse battery staple\n", "toll", "signup", "--proxy="+proxy[1], "--invite="+invite[1], "--password-stdin", "--ca-pin="+pin)
	require.Contains(t, out, "Logged in as alice")

	// Step 3/4: configure the database. The node's own CA (cockroach cert
	// create-ca) goes first in ca-client.crt, then the exported db_client CA;
	// auth sign writes ca.crt, node.crt and node.key.
	certs := filepath.Join(w.dir, "certs")
	out = w.run("", "tollctl", "auth", "sign", "--format=cockroachdb", "--host=localhost,127.0.0.1", "--out="+certs, "--ttl=2190h")
	for _, f := range []string{"ca.crt", "ca-client.crt", "node.crt", "node.key"} {
		_, err := os.Stat(filepath.Join(certs, f))
		require.NoError(t, err, "auth sign wrote %s (output: %s)", f, out)
	}
	// A separate CA standing in for the CockroachDB cluster's own.
	roachCA, _, err := pki.NewCA(schemas.CADB, pki.AlgECDSAP256, "cockroach", time.Now(), 24*time.Hour)
	require.NoError(t, err)
	dbClient := w.run("", "tollctl", "auth", "export", "--type=db-client")
	require.Contains(t, dbClient, "BEGIN CERTIFICATE")
	require.NoError(t, os.WriteFile(filepath.Join(certs, "ca-client.crt"), []byte(string(roachCA)+dbClient), 0o600))
	pg, err := pgtest.StartServer(context.Background(), pgtest.Config{
		CertFile: filepath.Join(certs, "node.crt"), KeyFile: filepath.Join(certs, "node.key"), CAFile: filepath.Join(certs, "ca-client.crt"),
		Settings: map[string]string{"log_statement": "all", "log_line_prefix": "[%u] "},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = pg.Close() })
	// CREATE USER alice WITH PASSWORD NULL; and CockroachDB's defaultdb.
	for _, q := range []string{"CREATE ROLE alice LOGIN", "CREATE DATABASE defaultdb OWNER alice"} {
		require.NoError(t, pg.ExecContext(context.Background(), q))
	}

	// Step 1/4: the Database Service: join token, config file, agent.
	tokenFile := filepath.Join(w.dir, "token")
	token := w.run("", "tollctl", "tokens", "add", "--type=db", "--format=text")
	require.Regexp(t, `^[0-9a-f]{32}\s*$`, token)
	require.NoError(t, os.WriteFile(tokenFile, []byte(token), 0o600))
	cfgPath := filepath.Join(w.dir, "tollgate.yaml")
	agentAddr := "127.0.0.1:" + strconv.Itoa(aport)
	w.run("", "tollgate", "db", "configure", "create", "-o", cfgPath, "--token="+tokenFile, "--proxy="+w.controlAddr,
		"--name=roach", "--protocol=cockroachdb", "--uri="+pg.Addr(), "--labels=env=dev", "--ca-pin="+pin,
		"--data-dir="+filepath.Join(w.dir, "agent-data"), "--listen-addr="+agentAddr, "--description=Example CockroachDB")
	// The guide's `tollgate install systemd -o FILE`: a unit that runs the
	// agent with that config (systemctl itself is outside a test).
	unitPath := filepath.Join(w.dir, "tollgate.service")
	w.run("", "tollgate", "install", "systemd", "-o", unitPath, "--config", cfgPath)
	unit, err := os.ReadFile(unitPath)
	require.NoError(t, err)
	require.Regexp(t, `(?m)^ExecStart=\S*tollgate start --config `+regexp.QuoteMeta(cfgPath)+`$`, string(unit))
	require.Contains(t, string(unit), "ExecReload=/bin/kill -HUP $MAINPID")
	require.Contains(t, string(unit), "ReadWritePaths="+filepath.Join(w.dir, "agent-data")+"\n", "the unit may write the config's data dir")
	// What the unit would run, run as a process here:
	agent := w.start("tollgate", "start", "--config", cfgPath, "--log-format", "text", "--metrics-addr", "127.0.0.1:0")
	registered := func() bool {
		out, _, err := w.try("", "tollctl", "db", "ls")
		return err == nil && strings.Contains(out, "roach")
	}
	// The agent is its own process: it joins control over HTTPS with the
	// token and the pin, then reaches NATS at the address the join answered.
	eventually(t, "the agent (a separate process) registers roach", agent, registered)
	require.Contains(t, agent.out.String(), "tls://127.0.0.1:"+strconv.Itoa(nport), "the agent's event log is control's NATS listener")

	// Step 4/4: connect.
	out = w.run("correct horse battery staple\n", "toll", "login", "--proxy="+w.controlAddr, "--user=alice", "--password-stdin", "--ca-pin="+pin)
	require.Contains(t, out, "Logged in as alice")
	out = w.run("", "toll", "db", "ls")
	require.Regexp(t, `roach\s+Example CockroachDB\s+cockroachdb\s+env=dev`, out)

	out = w.run("", "toll", "db", "connect", "roach", "--db-user=alice", "--", "-X", "-A", "-t", "-c", "select 1")
	require.Equal(t, "1", strings.TrimSpace(out))

	// toll proxy db serves pgbench and psql at once.
	pport := freePort(t)
	px := w.start("toll", "proxy", "db", "roach", "--port", strconv.Itoa(pport))
	eventually(t, "toll proxy db starts", px, func() bool { return strings.Contains(px.out.String(), "Started local proxy") })
	require.Contains(t, px.out.String(), fmt.Sprintf("host=127.0.0.1 port=%d user=alice dbname=defaultdb sslmode=disable", pport))
	conn := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(pport), "-U", "alice"}
	w.run("", w.pgbenchPath, append(append([]string{"-i"}, conn...), "defaultdb")...)
	var wg sync.WaitGroup
	var benchOut, benchErr string
	var bench error
	wg.Add(1)
	go func() {
		defer wg.Done()
		benchOut, benchErr, bench = w.try("", w.pgbenchPath, append(append([]string{"-S", "-t", "50", "-c", "2"}, conn...), "defaultdb")...)
	}()
	out = w.run("", w.psqlPath, "-X", "-A", "-t", fmt.Sprintf("host=127.0.0.1 port=%d user=alice dbname=defaultdb sslmode=disable", pport),
		"-c", "select count(*) from pgbench_branches")
	require.Equal(t, "1", strings.TrimSpace(out))
	wg.Wait()
	require.NoError(t, bench, "pgbench: %s %s", benchOut, benchErr)
	require.Contains(t, benchOut, "number of transactions actually processed: 100/100")
	px.stop(t)

	out = w.run("", "toll", "db", "logout", "roach")
	require.Contains(t, out, "Logged out of database roach")
	_, err = os.Stat(filepath.Join(w.home, "db", "roach"))
	require.ErrorIs(t, err, os.ErrNotExist)

	// The audit stream holds the session and its query.
	eventually(t, "the audit stream holds select 1", nil, func() bool {
		out, _, err := w.try("", "tollctl", "events", "ls", "--stream=audit", "--format=json")
		return err == nil && strings.Contains(out, "session.started") && strings.Contains(out, "select 1") &&
			strings.Contains(out, "pgbench_accounts") && strings.Contains(out, "session.ended")
	})
	// tollctl audit search/session/verify read the same trail.
	var found struct {
		Events []struct {
			Event struct {
				Type string `json:"type"`
				Data struct {
					SessionID string `json:"session_id"`
					Statement string `json:"statement"`
				} `json:"data"`
			} `json:"event"`
		} `json:"events"`
	}
	out = w.run("", "tollctl", "audit", "search", "--user", "alice", "--type=query", "--limit=1000", "--format=json")
	require.NoError(t, json.Unmarshal([]byte(out), &found), out)
	sid := ""
	for _, e := range found.Events {
		if e.Event.Type == schemas.TypeQuery && e.Event.Data.Statement == "select 1" {
			sid = e.Event.Data.SessionID
		}
	}
	require.NotEmpty(t, sid, "audit search --user alice finds the query select 1:\n%s", out)
	out = w.run("", "tollctl", "audit", "search", "--user", "alice", "--session", sid)
	require.Contains(t, out, "session.started")
	require.Contains(t, out, "session.ended")
	out = w.run("", "tollctl", "audit", "session", sid)
	require.Contains(t, out, "select 1")
	require.Contains(t, out, "alice")
	out = w.run("", "tollctl", "audit", "verify")
	require.Contains(t, out, "OK")

	sc := bufio.NewScanner(strings.NewReader(pg.LogContents()))
	n := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "[alice] LOG:  statement: select 1") {
			n++
		}
	}
	require.Equal(t, 1, n, "PostgreSQL ran select 1 once, as alice")
}
