package e2e

import (
	"context"
	"errors"
	"fmt"
	"github.com/tollgate-db/tollgate/internal/testio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/internal/pgtest"
)

// TestProxyDBFidelity: drivers through the built `toll proxy db` (its own
// process, in front of an agent in its own process) behave as directly:
// pgx reports the backend's real PID, which pg_stat_activity shows;
// cancelling a pgx context and psql's Ctrl-C cancel the running statement
// (57014); pg_terminate_backend(that PID), run through the proxy, ends the
// backend and the driver gets the server's FATAL 57P01; pgx asking for
// protocol 3.2 is served after the server's NegotiateProtocolVersion.
func TestProxyDBFidelity(t *testing.T) {
	w := newWorld(t)
	cport, aport, nport, pport := freePort(t), freePort(t), freePort(t), freePort(t)
	w.controlAddr = "127.0.0.1:" + strconv.Itoa(cport)
	ccfg := controlConfig(t, w.dir, w.dataDir, w.controlAddr, "127.0.0.1:"+strconv.Itoa(nport), filepath.Join(w.dir, "audit.jsonl"))
	control := w.start("tollgate", "start", "--config", ccfg, "--log-format", "text")
	var status string
	eventually(t, "tollctl status answers", control, func() bool {
		out, _, err := w.try("", "tollctl", "status")
		status = out
		return err == nil
	})
	pin := pinRE.FindString(status)
	require.NotEmpty(t, pin, status)
	out := w.run("", "tollctl", "users", "add", "--roles=access", `--db-users=*`, `--db-names=*`, "alice")
	invite := regexp.MustCompile(`--invite[= ](\S+)`).FindStringSubmatch(out)
	require.Len(t, invite, 2, out)
	w.run("correct horse battery staple\n", "toll", "signup", "--proxy="+w.controlAddr, "--invite="+invite[1], "--password-stdin", "--ca-pin="+pin)

	certs := filepath.Join(w.dir, "certs")
	w.run("", "tollctl", "auth", "sign", "--format=cockroachdb", "--host=localhost,127.0.0.1", "--out="+certs, "--ttl=24h")
	pg, err := pgtest.StartServer(context.Background(), pgtest.Config{
		CertFile: filepath.Join(certs, "node.crt"), KeyFile: filepath.Join(certs, "node.key"), CAFile: filepath.Join(certs, "ca-client.crt"),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = pg.Close() })
	require.NoError(t, pg.ExecContext(context.Background(), "CREATE ROLE alice LOGIN"))

	token := w.run("", "tollctl", "tokens", "add", "--type=db", "--format=text")
	tokenFile := filepath.Join(w.dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(token), 0o600))
	cfgPath := filepath.Join(w.dir, "tollgate.yaml")
	w.run("", "tollgate", "db", "configure", "create", "-o", cfgPath, "--token="+tokenFile, "--proxy="+w.controlAddr,
		"--name=pg", "--protocol=postgres", "--uri="+pg.Addr(), "--ca-pin="+pin,
		"--data-dir="+filepath.Join(w.dir, "agent-data"), "--listen-addr=127.0.0.1:"+strconv.Itoa(aport))
	agent := w.start("tollgate", "start", "--config", cfgPath, "--log-format", "text", "--metrics-addr", "127.0.0.1:0")
	eventually(t, "the agent registers pg", agent, func() bool {
		out, _, err := w.try("", "tollctl", "db", "ls")
		return err == nil && strings.Contains(out, "pg")
	})
	w.run("correct horse battery staple\n", "toll", "login", "--proxy="+w.controlAddr, "--user=alice", "--password-stdin", "--ca-pin="+pin)
	px := w.start("toll", "proxy", "db", "pg", "--db-user=alice", "--db-name=postgres", "--port", strconv.Itoa(pport))
	eventually(t, "toll proxy db starts", px, func() bool { return strings.Contains(px.out.String(), "Started local proxy") })
	conn := fmt.Sprintf("host=127.0.0.1 port=%d user=alice dbname=postgres sslmode=disable", pport)

	ctx := context.Background()
	super, err := pg.Connect(ctx)
	require.NoError(t, err)
	defer super.Close(ctx)
	state := func(pid uint32) string {
		var s string
		err := super.QueryRow(ctx, "select coalesce(state, '') || ':' || query from pg_stat_activity where pid = $1", int64(pid)).Scan(&s)
		if errors.Is(err, pgx.ErrNoRows) {
			return ""
		}
		require.NoError(t, err)
		return s
	}
	connect := func(extra string) *pgx.Conn {
		cfg, err := pgx.ParseConfig(conn + extra)
		require.NoError(t, err)
		cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
			return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 20 * time.Second}
		}
		c, err := pgx.ConnectConfig(ctx, cfg)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close(ctx) })
		return c
	}

	for _, extra := range []string{"", " max_protocol_version=3.2"} {
		c := connect(extra)
		pid := c.PgConn().PID()
		var server int64
		require.NoError(t, c.QueryRow(ctx, "select pg_backend_pid()").Scan(&server))
		require.Equal(t, uint32(server), pid, "the driver's PID is its backend's (%q)", extra)
		eventually(t, "pg_stat_activity shows the driver's PID", px, func() bool { return state(pid) == "idle:select pg_backend_pid()" })

		qctx, cancel := context.WithCancel(ctx)
		res := make(chan error, 1)
		go func() { _, err := c.Exec(qctx, "select pg_sleep(30)"); res <- err }()
		eventually(t, "pg_sleep runs", px, func() bool { return state(pid) == "active:select pg_sleep(30)" })
		cancel()
		var pe *pgconn.PgError
		require.ErrorAs(t, <-res, &pe)
		require.Equal(t, "57014", pe.Code, pe.Message)
		eventually(t, "the backend is idle again", px, func() bool { return strings.HasPrefix(state(pid), "idle:") })

		k := connect("")
		var ok bool
		require.NoError(t, k.QueryRow(ctx, "select pg_terminate_backend($1)", int64(pid)).Scan(&ok))
		require.True(t, ok)
		eventually(t, "the backend ended", px, func() bool { return state(pid) == "" })
		_, err := c.Exec(ctx, "select 1")
		require.ErrorAs(t, err, &pe)
		require.Equal(t, "57P01", pe.Code, pe.Message)
		require.Equal(t, "FATAL", pe.Severity)
	}

	// psql's Ctrl-C (libpq's CancelRequest to the proxy's host and port).
	pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	psql := exec.CommandContext(pctx, w.psqlPath, "-X", conn+" application_name=ctrl-c", "-c", "select pg_sleep(30)")
	var pout testio.Buffer
	psql.Stdout, psql.Stderr = &pout, &pout
	require.NoError(t, psql.Start())
	eventually(t, "psql's pg_sleep runs", px, func() bool {
		var n int
		require.NoError(t, super.QueryRow(ctx, "select count(*) from pg_stat_activity where application_name = 'ctrl-c' and state = 'active'").Scan(&n))
		return n == 1
	})
	require.NoError(t, psql.Process.Signal(syscall.SIGINT))
	err = psql.Wait()
	require.Contains(t, pout.String(), "canceling statement due to user request")
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 1, ee.ExitCode(), pout.String())
}
