package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/natstest"
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
	confA, confB, addrA, addrB := w.twoControls(c)
	a := w.start("tollgate", "start", "--config", confA, "--log-format", "text")
	pin := w.waitControl(a)
	b := w.start("tollgate", "start", "--config", confB, "--log-format", "text")
	w.waitControl(b, "--proxy="+addrB)
	controls := addrA + "," + addrB
	both := "--proxy=" + controls
	w.signUpAlice(controls, pin)
	pg := w.alicesPostgres(controls, nil, nil, "")
	agentCfg := w.agentConfigFor(controls, pin, pg.Addr())
	patchConfig(t, agentCfg, func(m map[string]any) { m["nats"] = map[string]any{"url": c.URL(), "replicas": 3} })
	agent := w.start("tollgate", "start", "--config", agentCfg, "--log-format", "text", "--metrics-addr", "none")
	eventually(t, "the agent registers pg", agent, func() bool {
		out, _, err := w.try("", "tollctl", both, "db", "ls")
		return err == nil && strings.Contains(out, "pg")
	})

	w.run(alicePassword, "toll", "login", both, "--user=alice", "--password-stdin")
	pport := freePort(t)
	px := w.start("toll", "proxy", "db", "pg", "--db-user=alice", "--db-name=alice", "--port", strconv.Itoa(pport))
	eventually(t, "toll proxy db starts", px, func() bool { return strings.Contains(px.out.String(), "Started local proxy") })
	bench := func(tx int) (string, error) { return w.aliceBench(pport, tx) }
	mustBench := func(what string, tx int) { t.Helper(); w.mustAliceBench(t, what, pport, tx) }
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

	w.run("", w.pgbenchPath, "-i", "-s", "1", "-h", "127.0.0.1", "-p", strconv.Itoa(pport), "-U", "alice", "alice")
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
	out := w.run("", "tollctl", both, "audit", "verify")
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
