package gateway_test

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/schemas"
)

// TestFidelityCancel: a driver that cancels by sending a CancelRequest to
// the host and port it connected to — the agent, or `toll proxy db` —
// cancels the running statement, as directly: pgx cancelling on its
// context, psql's Ctrl-C (libpq), node-postgres' Client.cancel. The
// statement ends with 57014 and its backend is idle again, on the same
// connection; the agent records the forwarded cancel.
func TestFidelityCancel(t *testing.T) {
	h, alice := fidelityHarness(t)
	for _, r := range h.routes(alice) {
		t.Run("pgx/"+r.name, func(t *testing.T) {
			h.pgxCancel(t, r, "cancel-pgx-"+r.name, "")
		})
		t.Run("psql/"+r.name, func(t *testing.T) {
			app := "cancel-psql-" + r.name
			out, code := h.psqlCancel(t, r.conn, app)
			require.Contains(t, out, "ERROR:  canceling statement due to user request", out)
			require.Equal(t, 1, code, out)
			h.requireCancelForwarded(t, r, app)
		})
		t.Run("node/"+r.name, func(t *testing.T) {
			app := "cancel-node-" + r.name
			cfg := map[string]any{"application_name": app}
			for k, v := range r.node {
				cfg[k] = v
			}
			n := startNode(t, "cancel", cfg)
			pid := num(t, n.next("pid"), "pid")
			require.Equal(t, pid, h.waitActive(t, app, "select pg_sleep(30)").pid)
			n.send("cancel")
			e, _ := n.next("error")["error"].(map[string]any)
			require.Equal(t, "57014", e["code"], "%v", e)
			n.next("ok")
			n.wait()
			h.requireCancelForwarded(t, r, app)
		})
	}
}

// pgxCancel runs select pg_sleep(30) on a pgx connection of route r
// (with extra connection settings) that sends a CancelRequest when its
// context ends, ends the context once the statement runs, and requires
// the server's 57014, the backend idle again and the connection usable.
func (h *harness) pgxCancel(t *testing.T, r route, app, extra string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.ConnectConfig(ctx, pgxConfig(t, r.conn+extra, app, true))
	require.NoError(t, err)
	defer c.Close(ctx)
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := make(chan error, 1)
	go func() {
		_, err := c.Exec(qctx, "select pg_sleep(30)")
		res <- err
	}()
	b := h.waitActive(t, app, "select pg_sleep(30)")
	require.Equal(t, c.PgConn().PID(), b.pid)
	cancel()
	requirePgError(t, <-res, "57014", "ERROR", "the statement was cancelled on the server")
	require.Eventually(t, func() bool {
		got, ok := h.backendOf(t, b.pid)
		return ok && got.state == "idle"
	}, 30*time.Second, 20*time.Millisecond, "the backend is idle again")
	var one int
	require.NoError(t, c.QueryRow(ctx, "select 1").Scan(&one), "the connection goes on")
	h.requireCancelForwarded(t, r, app)
}

// requireCancelForwarded: through the gateway, the agent recorded a
// session.cancel forwarded to the session of application_name app.
func (h *harness) requireCancelForwarded(t *testing.T, r route, app string) {
	t.Helper()
	if r.name == "direct" {
		return
	}
	ids := map[string]bool{}
	for _, ev := range h.events(schemas.TypeSessionStarted) {
		if s := decode[schemas.SessionStarted](t, ev); s.Params["application_name"] == app {
			ids[s.SessionID] = true
		}
	}
	require.Eventually(t, func() bool {
		for _, ev := range h.events(schemas.TypeSessionCancel) {
			if c := decode[schemas.SessionCancel](t, ev); ids[c.SessionID] && c.Matched && c.Forwarded {
				return true
			}
		}
		return false
	}, 30*time.Second, 20*time.Millisecond, "session.cancel forwarded for %s", app)
}

// TestFidelityProtocol32: a client asking for protocol 3.2 (PostgreSQL
// 18) is served: the startup goes to the server as asked, and the
// server's NegotiateProtocolVersion reaches the client. Against this
// PostgreSQL (15, which speaks 3.0), pgx with max_protocol_version=3.2
// settles on 3.0 and works — PID, cancel — through the agent and the
// proxy as directly, and min_protocol_version=3.2 fails the same way. A
// hand-built 3.2 startup with a `_pq_.` option gets, byte for byte, the
// NegotiateProtocolVersion the server sends directly.
func TestFidelityProtocol32(t *testing.T) {
	h, alice := fidelityHarness(t)
	ctx := context.Background()
	routes := h.routes(alice)
	for _, r := range routes {
		t.Run("pgx/"+r.name, func(t *testing.T) {
			app := "proto32-" + r.name
			c, err := pgx.ConnectConfig(ctx, pgxConfig(t, r.conn+" max_protocol_version=3.2", app, false))
			require.NoError(t, err)
			var pid int64
			require.NoError(t, c.QueryRow(ctx, "select pg_backend_pid()").Scan(&pid))
			require.Equal(t, uint32(pid), c.PgConn().PID())
			require.NoError(t, c.Close(ctx))
			h.pgxCancel(t, r, app+"-cancel", " max_protocol_version=3.2")

			_, err = pgx.ConnectConfig(ctx, pgxConfig(t, r.conn+" min_protocol_version=3.2", app+"-min", false))
			require.ErrorContains(t, err, "server protocol version too low")
		})
	}

	// A hand-built 3.2 startup: directly over the unix socket (trust) and
	// through the proxy, the first answer is the same
	// NegotiateProtocolVersion (newest minor 0, the option unknown).
	first := func(conn net.Conn, user string) (*pgproto3.NegotiateProtocolVersion, []pgproto3.BackendMessage) {
		defer conn.Close()
		fe := pgproto3.NewFrontend(conn, conn)
		fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion32, Parameters: map[string]string{
			"user": user, "database": "postgres", "application_name": "proto32-raw", "_pq_.tollgate_test": "on"}})
		require.NoError(t, fe.Flush())
		var npv *pgproto3.NegotiateProtocolVersion
		var rest []pgproto3.BackendMessage
		require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
		for {
			m, err := fe.Receive()
			require.NoError(t, err)
			switch v := m.(type) {
			case *pgproto3.NegotiateProtocolVersion:
				require.Nil(t, npv, "one NegotiateProtocolVersion")
				require.Empty(t, rest, "before anything else")
				c := *v
				c.UnrecognizedOptions = append([]string(nil), v.UnrecognizedOptions...)
				npv = &c
			case *pgproto3.BackendKeyData:
				rest = append(rest, &pgproto3.BackendKeyData{ProcessID: v.ProcessID, SecretKey: append([]byte(nil), v.SecretKey...)})
			case *pgproto3.ErrorResponse:
				t.Fatalf("server error: %s", v.Message)
			case *pgproto3.ReadyForQuery:
				return npv, rest
			}
		}
	}
	sock := filepath.Join(h.pg.SocketDir(), ".s.PGSQL."+strconv.Itoa(h.pg.Port()))
	dc, err := net.Dial("unix", sock)
	require.NoError(t, err)
	direct, _ := first(dc, "postgres")
	require.NotNil(t, direct)
	require.Equal(t, uint32(pgproto3.ProtocolVersion30), direct.NewestMinorProtocol, "the server speaks 3.0")
	require.Equal(t, []string{"_pq_.tollgate_test"}, direct.UnrecognizedOptions)

	var proxy route
	for _, r := range routes {
		if r.name == "proxy" {
			proxy = r
		}
	}
	cfg, err := pgx.ParseConfig(proxy.conn)
	require.NoError(t, err)
	pc, err := net.Dial("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	require.NoError(t, err)
	via, rest := first(pc, "alice")
	require.Equal(t, direct, via, "the server's NegotiateProtocolVersion, relayed")
	require.Len(t, rest, 1)
	key := rest[0].(*pgproto3.BackendKeyData)
	require.Len(t, key.SecretKey, 4, "a 3.0 session: the agent's key is 4 bytes like the server's")
}

// TestFidelityCancelBurst: a pool whose statements all reach their
// deadline at once cancels every one of them, as directly — through `toll
// proxy db` and the agent every CancelRequest comes from one address, and
// only cancels that match no session spend that address's budget (the
// agent's default: a burst of 5).
func TestFidelityCancelBurst(t *testing.T) {
	h, alice := fidelityHarness(t)
	ctx := context.Background()
	const n = 8
	for _, r := range h.routes(alice) {
		t.Run(r.name, func(t *testing.T) {
			app := "burst-" + r.name
			qctx, cancel := context.WithCancel(ctx)
			defer cancel()
			res := make(chan error, n)
			for range n {
				c, err := pgx.ConnectConfig(ctx, pgxConfig(t, r.conn, app, true))
				require.NoError(t, err)
				t.Cleanup(func() { c.Close(ctx) })
				go func() {
					_, err := c.Exec(qctx, "select pg_sleep(30)")
					res <- err
				}()
			}
			require.Eventually(t, func() bool {
				active := 0
				for _, b := range h.activity(t, app) {
					if b.state == "active" && b.query == "select pg_sleep(30)" {
						active++
					}
				}
				return active == n
			}, 30*time.Second, 20*time.Millisecond, "%d statements run", n)
			cancel()
			for range n {
				requirePgError(t, <-res, "57014", "ERROR")
			}
		})
	}
}
