package gateway_test

import (
	"context"
	"github.com/tollgate-db/tollgate/internal/testio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// TestFidelityBackendPID: the PID a driver has from BackendKeyData is its
// backend's — pgx, node-postgres and psql (libpq, shown in its prompt)
// report the pid that pg_backend_pid() and pg_stat_activity show, and
// pg_terminate_backend(that pid), run through the gateway, ends that
// backend: the driver gets the server's FATAL 57P01, then the connection
// closes, as directly.
func TestFidelityBackendPID(t *testing.T) {
	h, alice := fidelityHarness(t)
	ctx := context.Background()
	for _, r := range h.routes(alice) {
		t.Run("pgx/"+r.name, func(t *testing.T) {
			app := "pid-pgx-" + r.name
			c, err := pgx.ConnectConfig(ctx, pgxConfig(t, r.conn, app, false))
			require.NoError(t, err)
			defer c.Close(ctx)
			pid := c.PgConn().PID()
			var server int64
			require.NoError(t, c.QueryRow(ctx, "select pg_backend_pid()").Scan(&server))
			require.Equal(t, uint32(server), pid, "the driver's PID is its backend's")
			b, ok := h.backendOf(t, pid)
			require.True(t, ok, "pid %d in pg_stat_activity", pid)
			require.Equal(t, app, b.app)
			require.Equal(t, r.dbUser, b.user)

			r.terminate(t, pid)
			r.ended(t, app)
			_, err = c.Exec(ctx, "select 1")
			requirePgError(t, err, "57P01", "FATAL", "the server's FATAL reaches the driver")
			require.True(t, c.IsClosed(), "then the connection is closed")
		})
		t.Run("node/"+r.name, func(t *testing.T) {
			app := "pid-node-" + r.name
			cfg := map[string]any{"application_name": app}
			for k, v := range r.node {
				cfg[k] = v
			}
			n := startNode(t, "pid", cfg)
			m := n.next("pid")
			pid := num(t, m, "pid")
			require.Equal(t, num(t, m, "backend"), pid, "client.processID is the backend's pid")
			_, ok := h.backendOf(t, pid)
			require.True(t, ok, "pid %d in pg_stat_activity", pid)

			r.terminate(t, pid)
			m = n.next("ended")
			errs, _ := m["errors"].([]any)
			require.NotEmpty(t, errs, "the idle client got the server's error before the end")
			first, _ := errs[0].(map[string]any)
			require.Equal(t, "57P01", first["code"], "%v", errs)
			require.Equal(t, "FATAL", first["severity"], "%v", errs)
			n.wait()
		})
		t.Run("psql/"+r.name, func(t *testing.T) {
			app := "pid-psql-" + r.name
			p := startInteractivePsql(t, r.conn+" application_name="+app)
			p.waitFor(`pid=\d+> `)
			pid := p.pids()[0]
			p.send(`select 'backend=' || pg_backend_pid();`)
			p.waitFor(`backend=\d+`)
			require.Contains(t, p.out.String(), "backend="+itoa(uint64(pid)), "the %%p of psql's prompt is the backend's pid")
			_, ok := h.backendOf(t, pid)
			require.True(t, ok, "pid %d in pg_stat_activity", pid)

			r.terminate(t, pid)
			r.ended(t, app)
			p.send("select 1;")
			// libpq reads the server's FATAL, then the close; psql says so
			// and reconnects, through the gateway too.
			p.waitFor(`FATAL:  terminating connection due to administrator command`)
			p.waitFor(`Attempting reset: Succeeded\.`)
			p.send("select 2;")
			p.waitFor(`pid=\d+> [^\n]*select 2;`)
			require.Eventually(t, func() bool { return len(p.pids()) >= 2 }, 30*time.Second, 20*time.Millisecond)
			require.NotEqual(t, pid, p.pids()[1], "a new backend after the reset")
			p.quit()
		})
	}
}

// TestFidelityServerEnds: a connection the server ends — while idle, by
// pg_terminate_backend or idle_session_timeout — ends the client's the
// same way as directly (the server's FATAL, then the close), so pools
// drop it as they do directly: pgxpool (handing out the dead connection
// once, or with a liveness ping on acquire), node-postgres' pg.Pool (its
// idle client's error event), and pgbench (libpq) aborting its client.
func TestFidelityServerEnds(t *testing.T) {
	h, alice := fidelityHarness(t)
	ctx := context.Background()
	pool := func(t *testing.T, conn, app string, ping bool) *pgxpool.Pool {
		cfg, err := pgxpool.ParseConfig(conn + " application_name=" + app + " pool_max_conns=1")
		require.NoError(t, err)
		if ping {
			cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return true }
		}
		p, err := pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		t.Cleanup(p.Close)
		return p
	}
	pooledPID := func(t *testing.T, p *pgxpool.Pool) uint32 {
		var pid int64
		require.NoError(t, p.QueryRow(ctx, "select pg_backend_pid()").Scan(&pid))
		return uint32(pid)
	}
	for _, r := range h.routes(alice) {
		t.Run("pgxpool/"+r.name, func(t *testing.T) {
			app := "ends-pool-" + r.name
			p := pool(t, r.conn, app, false)
			pid := pooledPID(t, p)
			r.terminate(t, pid)
			r.ended(t, app)
			// The dead connection is handed out once; its error is the
			// server's, and the pool destroys it.
			_, err := p.Exec(ctx, "select 1")
			requirePgError(t, err, "57P01", "FATAL")
			require.Eventually(t, func() bool { return p.Stat().TotalConns() == 0 }, 30*time.Second, 10*time.Millisecond,
				"the pool destroys the connection")
			require.NotEqual(t, pid, pooledPID(t, p), "a new connection")
		})
		t.Run("pgxpool-ping/"+r.name, func(t *testing.T) {
			app := "ends-ping-" + r.name
			p := pool(t, r.conn, app, true)
			pid := pooledPID(t, p)
			r.terminate(t, pid)
			r.ended(t, app)
			// The liveness ping on acquire sees the dead connection: the
			// query runs on a new one.
			next := pooledPID(t, p)
			require.NotEqual(t, pid, next)
			_, ok := h.backendOf(t, next)
			require.True(t, ok)
		})
		t.Run("idle_session_timeout/"+r.name, func(t *testing.T) {
			app := "ends-idle-" + r.name
			c, err := pgx.ConnectConfig(ctx, pgxConfig(t, r.conn, app, false))
			require.NoError(t, err)
			defer c.Close(ctx)
			_, err = c.Exec(ctx, "set idle_session_timeout = '200ms'")
			require.NoError(t, err)
			r.ended(t, app)
			_, err = c.Exec(ctx, "select 1")
			requirePgError(t, err, "57P05", "FATAL")
			require.True(t, c.IsClosed())
		})
		t.Run("node-pool/"+r.name, func(t *testing.T) {
			app := "ends-node-" + r.name
			cfg := map[string]any{"application_name": app}
			for k, v := range r.node {
				cfg[k] = v
			}
			n := startNode(t, "pool", cfg)
			pid := num(t, n.next("pid"), "pid")
			r.terminate(t, pid)
			e, _ := n.next("poolError")["poolError"].(map[string]any)
			require.Equal(t, "57P01", e["code"], "pg.Pool dropped its idle client on the server's FATAL: %v", e)
			require.NotEqual(t, pid, num(t, n.next("pid2"), "pid2"))
			n.wait()
		})
		t.Run("pgbench/"+r.name, func(t *testing.T) {
			app := "ends-pgbench-" + r.name
			out, code := h.pgbenchTerminated(t, r, app)
			require.Equal(t, 2, code, out)
			require.Contains(t, out, "aborted")
			require.Contains(t, out, "FATAL:  terminating connection due to administrator command", out)
		})
	}
}

// pgbenchTerminated runs pgbench (libpq) with one client looping on a
// short statement, terminates its backend once it runs, and returns
// pgbench's output and exit code.
func (h *harness) pgbenchTerminated(t *testing.T, r route, app string) (string, int) {
	t.Helper()
	bin, err := exec.LookPath("pgbench")
	require.NoError(t, err, "pgbench not found: apt-get install -y postgresql (pgbench comes with the server package)")
	script := filepath.Join(t.TempDir(), "sleep.sql")
	require.NoError(t, os.WriteFile(script, []byte("select pg_sleep(0.01);\n"), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-n", "-c", "1", "-T", "100", "-f", script, r.conn+" application_name="+app)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=20")
	out := &testio.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	// The client's backend, once it has run the script (pgbench opens a
	// connection of its own first, which ends by itself).
	var pid uint32
	require.Eventually(t, func() bool {
		for _, b := range h.activity(t, app) {
			if strings.Contains(b.query, "pg_sleep(0.01)") {
				pid = b.pid
			}
		}
		return pid != 0
	}, 60*time.Second, 20*time.Millisecond, "pgbench's backend")
	r.terminate(t, pid)
	err = cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return out.String(), code
}

// TestFidelityServerRestart: a server restart (fast shutdown: every
// backend gets FATAL 57P01) ends a pgx connection through the gateway as
// it ends a direct one, and a pgxpool with a liveness ping goes on on new
// connections to the restarted server.
func TestFidelityServerRestart(t *testing.T) {
	h, alice := fidelityHarness(t)
	ctx := context.Background()
	routes := h.routes(alice)
	conns := map[string]*pgx.Conn{}
	pools := map[string]*pgxpool.Pool{}
	pids := map[string]uint32{}
	for _, r := range routes {
		c, err := pgx.ConnectConfig(ctx, pgxConfig(t, r.conn, "restart-pgx-"+r.name, false))
		require.NoError(t, err)
		t.Cleanup(func() { c.Close(ctx) })
		conns[r.name] = c
		cfg, err := pgxpool.ParseConfig(r.conn + " application_name=restart-pool-" + r.name + " pool_max_conns=1")
		require.NoError(t, err)
		cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return true }
		p, err := pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		t.Cleanup(p.Close)
		pools[r.name] = p
		var pid int64
		require.NoError(t, p.QueryRow(ctx, "select pg_backend_pid()").Scan(&pid))
		pids[r.name] = uint32(pid)
	}
	require.NoError(t, h.pg.Restart(ctx))
	for _, r := range routes {
		if r.name != "direct" {
			h.waitSessionEnded(t, "restart-pgx-"+r.name)
			h.waitSessionEnded(t, "restart-pool-"+r.name)
		}
		_, err := conns[r.name].Exec(ctx, "select 1")
		requirePgError(t, err, "57P01", "FATAL", r.name)
		require.True(t, conns[r.name].IsClosed(), r.name)
		var pid int64
		require.NoError(t, pools[r.name].QueryRow(ctx, "select pg_backend_pid()").Scan(&pid), r.name)
		require.NotEqual(t, pids[r.name], uint32(pid), r.name)
	}
}
