package e2e

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/natstest"
	"github.com/tollgate-db/tollgate/internal/pgtest"
)

// TestClusterSurvivesANATSNodeAndAControl: the production topology as
// separate processes — three nats-server nodes (streams at R3), two
// `tollgate start` controls sharing sealed keys in NATS KV, a strict agent
// on the cluster, PostgreSQL — with pgbench through `toll proxy db`. The
// audit stream's leader is killed under load and restarted; then one
// control is SIGKILLed under load, new sessions start (the agent fails
// over to the other control for their certificates), and it is started
// again. Runs with no kill in them succeed whole; a run across the NATS
// kill may see 58000 refusals, never a query run unrecorded. At the end
// PostgreSQL's log_statement=all and the audit agree session by session,
// statement by statement, no event id is stored twice, and `tollctl audit
// verify` finds every chain intact.
func TestClusterSurvivesANATSNodeAndAControl(t *testing.T) {
	w := newWorld(t)
	c := natstest.Start(t, natstest.Options{Nodes: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	seal := filepath.Join(w.dir, "seal.key")
	key := make([]byte, 32)
	_, err := rand.Read(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(seal, key, 0o600))
	addrA, addrB := "127.0.0.1:"+strconv.Itoa(freePort(t)), "127.0.0.1:"+strconv.Itoa(freePort(t))
	conf := func(name, dataDir, addr string) string {
		out, err := yaml.Marshal(map[string]any{
			"data_dir": dataDir, "cluster_name": "e2e",
			"nats": map[string]any{"url": c.URL(), "replicas": 3},
			"control": map[string]any{"listen_addr": addr, "metrics_addr": "none",
				"keystore": "nats", "seal_key_file": seal},
		})
		require.NoError(t, err)
		p := filepath.Join(w.dir, name+".yaml")
		require.NoError(t, os.WriteFile(p, out, 0o600))
		return p
	}
	confA, confB := conf("a", w.dataDir, addrA), conf("b", filepath.Join(w.dir, "control-b"), addrB)
	a := w.start("tollgate", "start", "--config", confA, "--log-format", "text")
	var status string
	eventually(t, "control a answers", a, func() bool {
		out, _, err := w.try("", "tollctl", "status")
		status = out
		return err == nil
	})
	pin := pinRE.FindString(status)
	require.NotEmpty(t, pin, status)
	b := w.start("tollgate", "start", "--config", confB, "--log-format", "text")
	eventually(t, "control b answers", b, func() bool {
		_, _, err := w.try("", "tollctl", "--proxy="+addrB, "status")
		return err == nil
	})
	both := "--proxy=" + addrA + "," + addrB

	out := w.run("", "tollctl", both, "users", "add", "--roles=access", `--db-users=*`, `--db-names=*`, "alice")
	invite := regexp.MustCompile(`--invite[= ](\S+)`).FindStringSubmatch(out)
	require.Len(t, invite, 2, out)
	const pw = "correct horse battery staple\n"
	w.run(pw, "toll", "signup", both, "--invite="+invite[1], "--password-stdin", "--ca-pin="+pin)

	certs := filepath.Join(w.dir, "certs")
	w.run("", "tollctl", both, "auth", "sign", "--format=db", "--host=localhost,127.0.0.1", "--out="+certs, "--ttl=24h")
	pg, err := pgtest.StartServer(ctx, pgtest.Config{
		CertFile: filepath.Join(certs, "server.crt"), KeyFile: filepath.Join(certs, "server.key"), CAFile: filepath.Join(certs, "server.cas"),
		Settings: map[string]string{"log_statement": "all", "log_line_prefix": "[%u:%c] "},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = pg.Close() })
	for _, q := range []string{"CREATE ROLE alice LOGIN", "CREATE DATABASE alice OWNER alice"} {
		require.NoError(t, pg.ExecContext(ctx, q))
	}

	tokenFile := filepath.Join(w.dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(w.run("", "tollctl", both, "tokens", "add", "--type=db", "--format=text")), 0o600))
	agentCfg := filepath.Join(w.dir, "agent.yaml")
	w.run("", "tollgate", "db", "configure", "create", "-o", agentCfg, "--token="+tokenFile, "--proxy="+addrA+","+addrB,
		"--name=pg", "--protocol=postgres", "--uri="+pg.Addr(), "--ca-pin="+pin,
		"--data-dir="+filepath.Join(w.dir, "agent-data"), "--listen-addr=127.0.0.1:"+strconv.Itoa(freePort(t)))
	patchConfig(t, agentCfg, func(m map[string]any) { m["nats"] = map[string]any{"url": c.URL(), "replicas": 3} })
	agent := w.start("tollgate", "start", "--config", agentCfg, "--log-format", "text", "--metrics-addr", "none")
	eventually(t, "the agent registers pg", agent, func() bool {
		out, _, err := w.try("", "tollctl", both, "db", "ls")
		return err == nil && strings.Contains(out, "pg")
	})

	w.run(pw, "toll", "login", both, "--user=alice", "--password-stdin")
	pport := freePort(t)
	px := w.start("toll", "proxy", "db", "pg", "--db-user=alice", "--db-name=alice", "--port", strconv.Itoa(pport))
	eventually(t, "toll proxy db starts", px, func() bool { return strings.Contains(px.out.String(), "Started local proxy") })
	conn := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(pport), "-U", "alice"}
	bench := func(tx int) (string, error) {
		o, e, err := w.try("", w.pgbenchPath, append(append([]string{"-n", "-S", "-t", strconv.Itoa(tx), "-c", "2"}, conn...), "alice")...)
		return o + e, err
	}
	mustBench := func(what string, tx int) {
		t.Helper()
		o, err := bench(tx)
		require.NoError(t, err, "pgbench %s: %s", what, o)
		require.Contains(t, o, "number of transactions actually processed: "+strconv.Itoa(2*tx)+"/"+strconv.Itoa(2*tx), what)
	}
	logged := func() int { return len(aliceStatement.FindAllString(pg.LogContents(), -1)) }
	// during runs pgbench while do happens once the run has made progress.
	during := func(tx int, do func()) (string, error) {
		type res struct {
			out string
			err error
		}
		start := logged()
		done := make(chan res, 1)
		go func() { o, err := bench(tx); done <- res{o, err} }()
		eventually(t, "pgbench makes progress", agent, func() bool { return logged() >= start+tx/2 })
		do()
		r := <-done
		return r.out, r.err
	}

	w.run("", w.pgbenchPath, append(append([]string{"-i", "-s", "1"}, conn...), "alice")...)
	mustBench("before any kill", 50)

	leader := auditLeader(t, ctx, c)
	o, err := during(300, func() { require.NoError(t, c.Stop(leader)) })
	t.Logf("pgbench across the kill of NATS node %d (the audit stream's leader): err=%v\n%s", leader, err, lastLines(o, 6))
	require.NoError(t, c.Restart(ctx, leader))
	mustBench("after the NATS node is back", 50)

	o, err = during(200, func() {
		require.NoError(t, a.cmd.Process.Kill())
		<-a.done
	})
	require.NoError(t, err, "a control's death does not touch open sessions: %s", o)
	mustBench("new sessions with control a dead", 50)
	a = w.start("tollgate", "start", "--config", confA, "--log-format", "text")
	eventually(t, "control a is back", a, func() bool {
		_, _, err := w.try("", "tollctl", "--proxy="+addrA, "status")
		return err == nil
	})
	mustBench("with both controls back", 50)
	px.stop(t)

	requireSessionsAgree(t, w, agent, pg, both)
	requireNoDuplicateIDs(t, w, both)
	agent.stop(t)
	out = w.run("", "tollctl", both, "audit", "verify")
	require.Contains(t, out, "OK", out)
}

// auditLeader is the index of the node leading the audit stream.
func auditLeader(t *testing.T, ctx context.Context, c *natstest.Cluster) int {
	t.Helper()
	nc, err := c.Connect()
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	st, err := js.Stream(ctx, eventlog.AuditStream)
	require.NoError(t, err)
	info := st.CachedInfo()
	require.NotNil(t, info.Cluster)
	i := c.Index(info.Cluster.Leader)
	require.GreaterOrEqual(t, i, 0, "leader %q", info.Cluster.Leader)
	return i
}
