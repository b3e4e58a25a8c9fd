package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/stretchr/testify/require"
)

// TestAgentBehindAFirewallServesThroughItsTunnel: the agent runs in a
// network namespace of its own, a stand-in for a private network: nothing
// on this host can dial its listener, and it can dial out (control's port,
// the database). With db_service.tunnel it keeps a reverse tunnel to
// control, registers its database as served through it, and psql and
// pgbench reach the database through `toll proxy db` and control's one
// public port, and psql, pgbench and pgx reach it by themselves through
// that port (toll db env: the database named in the TLS SNI; psql's Ctrl-C
// and pgx's plaintext CancelRequest routed too). Control is restarted, and the link cut and restored (the
// tunnel drops; the agent redials), and new sessions work again; pgx cancels a query through the tunnel,
// and a lock ends a session running through it. PostgreSQL's
// log_statement=all and the audit agree session by session; `tollctl
// audit verify` is OK.
func TestAgentBehindAFirewallServesThroughItsTunnel(t *testing.T) {
	w := newWorld(t)
	link := newNetLink(t)
	controlAddr := link.hostIP + ":" + strconv.Itoa(freePort(t))
	w.controlAddr = controlAddr
	ctlCfg := w.writeConfig("control.yaml", map[string]any{
		"data_dir": w.dataDir, "cluster_name": "e2e",
		"control": map[string]any{"listen_addr": controlAddr, "metrics_addr": "none"},
		"nats":    map[string]any{"listen_addr": link.hostIP + ":" + strconv.Itoa(freePort(t))},
	})
	control := w.start("tollgate", "start", "--config", ctlCfg, "--log-format", "text")
	pin := w.waitControl(control)
	w.signUpAlice(controlAddr, pin)
	// The database next to the agent: reachable from the agent's network.
	pg := w.alicesPostgres(controlAddr, []string{link.hostIP}, []string{"hostssl all all " + link.nsIP + "/32 cert"}, "127.0.0.1,"+link.hostIP)
	// No listener at all (listen_addr: none turns the tunnel on).
	agentCfg := w.agentConfigFor(controlAddr, pin, link.hostIP+":"+strconv.Itoa(pg.Port()), "--listen-addr=none")
	ip, args := link.exec(filepath.Join(w.bin, "tollgate"), "start", "--config", agentCfg, "--log-format", "text", "--metrics-addr", "none")
	agent := w.start(ip, args...)
	eventually(t, "the agent registers pg as served through its tunnel", agent, func() bool {
		out, _, err := w.try("", "tollctl", "db", "ls", "--format=json")
		return err == nil && regexp.MustCompile(`"public_addr":\s*"tunnel"`).MatchString(out)
	})
	require.Contains(t, agent.out.String(), "tunnel to control up")
	require.Regexp(t, `tunnel \(up\)`, w.run("", "tollctl", "agents", "ls"), "tollctl agents ls shows the tunnel")

	w.run(alicePassword, "toll", "login", "--proxy="+controlAddr, "--user=alice", "--password-stdin", "--ca-pin="+pin)
	pport := freePort(t)
	px := w.start("toll", "proxy", "db", "pg", "--db-user=alice", "--db-name=alice", "--port", strconv.Itoa(pport))
	eventually(t, "toll proxy db starts", px, func() bool { return strings.Contains(px.out.String(), "Started local proxy") })
	require.Contains(t, px.out.String(), "through control's tunnel")
	bench := func(what string, tx int) { t.Helper(); w.mustAliceBench(t, what, pport, tx) }
	w.run("", w.pgbenchPath, "-i", "-s", "1", "-h", "127.0.0.1", "-p", strconv.Itoa(pport), "-U", "alice", "alice")
	bench("through the tunnel", 50)
	out := w.run("", w.psqlPath, "-X", "-A", "-t", "host=127.0.0.1 port="+strconv.Itoa(pport)+" user=alice dbname=alice sslmode=disable",
		"-c", "select 'through the tunnel'")
	require.Equal(t, "through the tunnel", strings.TrimSpace(out))
	out = w.run("", "toll", "db", "connect", "pg", "--", "-X", "-A", "-t", "-c", "select 'toll db connect through the tunnel'")
	require.Equal(t, "toll db connect through the tunnel", strings.TrimSpace(out))

	// libpq by itself, straight to control's public port: toll db env
	// names the database in the host libpq sends as TLS SNI (control's
	// address is an IP: host pg.tollgate, hostaddr the IP) and verifies the
	// agent's cert as a host cert of the cluster.
	exports := w.run("", "toll", "db", "env", "pg")
	require.Contains(t, exports, "export PGHOST=pg.tollgate\n")
	require.Contains(t, exports, "export PGHOSTADDR="+link.hostIP+"\n")
	require.Contains(t, exports, "export PGSSLMODE=verify-ca\n")
	libpq := exportsOf(t, exports)
	out = w.run("", "/usr/bin/env", append(libpq, w.psqlPath, "-X", "-A", "-t", "-c", "select 'libpq through the public port'")...)
	require.Equal(t, "libpq through the public port", strings.TrimSpace(out))
	w.run("", "/usr/bin/env", append(libpq, w.pgbenchPath, "-n", "-S", "-c", "2", "-t", "25")...)
	// Ctrl-C in that psql: its CancelRequest, plaintext, to control's port,
	// down every tunnel to the agent holding the key.
	before := strings.Count(pg.LogContents(), "select pg_sleep(60)")
	interrupted := w.start("/usr/bin/env", append(libpq, w.psqlPath, "-X", "-c", "select pg_sleep(60)")...)
	eventually(t, "psql's sleep runs", interrupted, func() bool { return strings.Count(pg.LogContents(), "select pg_sleep(60)") > before })
	require.NoError(t, interrupted.cmd.Process.Signal(os.Interrupt))
	eventually(t, "Ctrl-C cancels the statement", nil, interrupted.exited)
	require.Contains(t, interrupted.out.String(), "canceling statement due to user request")

	// The tunnel drops with control; the agent redials it.
	control.stop(t)
	control = w.start("tollgate", "start", "--config", ctlCfg, "--log-format", "text")
	eventually(t, "the agent's tunnel is back", agent, func() bool {
		return strings.Count(agent.out.String(), "tunnel to control up") >= 2
	})
	bench("after control's restart", 50)

	// The link itself is cut (the agent's network loses its route out)
	// and restored: the agent notices, redials, and new sessions work.
	link.down()
	eventually(t, "the agent notices the tunnel is gone", agent, func() bool {
		return strings.Count(agent.out.String(), "tunnel to control down") >= 2
	})
	link.up()
	eventually(t, "the agent's tunnel is back after the cut", agent, func() bool {
		return strings.Count(agent.out.String(), "tunnel to control up") >= 3
	})
	// Its NATS connection lived through the cut as TCP, which resends on
	// its own backoff (or is redialed after two missed pings): until it
	// carries the audit again a strict session is refused (58000), not run.
	eventually(t, "sessions work again after the cut", agent, func() bool {
		_, err := w.aliceBench(pport, 1)
		return err == nil
	})
	bench("after the link is back", 50)

	// pgx through the tunnel: a cancel (a CancelRequest when the context
	// ends) reaches the agent holding the key; a lock ends a session.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg, err := pgx.ParseConfig("host=127.0.0.1 port=" + strconv.Itoa(pport) + " user=alice dbname=alice sslmode=disable")
	require.NoError(t, err)
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 20 * time.Second}
	}
	sleeps := func() int { return strings.Count(pg.LogContents(), "select pg_sleep(60)") }
	sleep := func(c *pgx.Conn, qctx context.Context) <-chan error {
		before := sleeps()
		res := make(chan error, 1)
		go func() { _, err := c.Exec(qctx, "select pg_sleep(60)"); res <- err }()
		eventually(t, "the sleep runs", agent, func() bool { return sleeps() > before })
		return res
	}
	pc, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	qctx, qcancel := context.WithCancel(ctx)
	res := sleep(pc, qctx)
	qcancel()
	var pgErr *pgconn.PgError
	require.ErrorAs(t, <-res, &pgErr, "the server cancelled the statement")
	require.Equal(t, "57014", pgErr.Code)
	var one int
	require.NoError(t, pc.QueryRow(ctx, "select 1").Scan(&one), "the session goes on")

	// pgx straight to the public port (its own resolver standing in for a
	// DNS record of pg.tollgate): its CancelRequest arrives at control's
	// port in plaintext and is sent down every tunnel; the agent holding
	// the key cancels.
	env := map[string]string{}
	for _, kv := range libpq {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	rawCfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%s user=alice dbname=alice sslmode=verify-ca sslrootcert=%s sslcert=%s sslkey=%s",
		env["PGHOST"], env["PGPORT"], env["PGSSLROOTCERT"], env["PGSSLCERT"], env["PGSSLKEY"]))
	require.NoError(t, err)
	rawCfg.LookupFunc = func(context.Context, string) ([]string, error) { return []string{link.hostIP}, nil }
	rawCfg.BuildContextWatcherHandler = cfg.BuildContextWatcherHandler
	rc, err := pgx.ConnectConfig(ctx, rawCfg)
	require.NoError(t, err)
	qctx, qcancel = context.WithCancel(ctx)
	res = sleep(rc, qctx)
	qcancel()
	require.ErrorAs(t, <-res, &pgErr, "the server cancelled the statement")
	require.Equal(t, "57014", pgErr.Code)
	require.NoError(t, rc.QueryRow(ctx, "select 2").Scan(&one))
	rc.Close(ctx)

	res = sleep(pc, ctx)
	w.run("", "tollctl", "lock", "--user=alice", "--message=tunnel test")
	require.Error(t, <-res, "the lock ends the session")
	pc.Close(ctx)
	px.stop(t)

	requireSessionsAgree(t, w, agent, pg)
	requireNoDuplicateIDs(t, w)
	agent.stop(t)
	// No tunnel up for pg: the client is told so, not cut off.
	o, e, err := w.try("", "toll", "db", "connect", "pg", "--", "-X", "-c", "select 1")
	require.Error(t, err)
	require.Contains(t, o+e, "no agent serving this database has a tunnel to control")
	out = w.run("", "tollctl", "audit", "verify")
	require.Contains(t, out, "OK", out)
}

// exportsOf turns toll db env's export lines into NAME=VALUE entries (its
// values here need no shell unquoting: paths and names without spaces).
func exportsOf(t *testing.T, out string) []string {
	t.Helper()
	var kv []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		e, ok := strings.CutPrefix(line, "export ")
		require.True(t, ok, "an export line: %q", line)
		require.NotContains(t, e, "'", "a value that needs unquoting: %q", line)
		kv = append(kv, e)
	}
	return kv
}
