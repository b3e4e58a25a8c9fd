package gateway_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/localproxy"
	"github.com/tollgate-db/tollgate/schemas"
)

// The protocol fidelity tests (issue 10) run each real driver three ways
// and compare: directly to PostgreSQL, through the agent (TLS with the
// user's cert), and through `toll proxy db` (agent/localproxy, the engine
// of the command, set up as the command sets it up).

// directPassword is pwuser's password for the direct route.
const directPassword = "direct-pw"

// route is one way a driver reaches the database.
type route struct {
	name string
	// conn is a libpq/pgx keyword/value connection string.
	conn string
	// node is node-postgres's client config.
	node map[string]any
	// dbUser is the role the route connects as.
	dbUser string
	// terminate runs pg_terminate_backend(pid) on a new connection of the
	// same route, as the same role (a role may end its own backends):
	// through the gateway for the agent and the proxy.
	terminate func(t *testing.T, pid uint32)
	// ended waits until the session of application_name app has ended at
	// every hop the route has: the backend left pg_stat_activity and,
	// through the agent, the agent recorded session.ended (it forwarded
	// what the server sent last, then closed).
	ended func(t *testing.T, app string)
}

// fidelityHarness is a harness (the agent's defaults, the cancel rate
// limit too) with alice (db user alice) and pwuser's password set.
func fidelityHarness(t *testing.T) (*harness, user) {
	h := newHarness(t)
	h.addUser("alice", []string{"access"}, []string{"alice"})
	h.pg.Exec(t, "ALTER ROLE pwuser PASSWORD '"+directPassword+"'")
	return h, h.dbCert("alice", "roach", time.Hour)
}

// routes returns the direct, agent and proxy routes for alice.
func (h *harness) routes(alice user) []route {
	t := h.t
	caPEM, err := os.ReadFile(h.hostCA)
	require.NoError(t, err)
	certPEM, err := os.ReadFile(alice.certFile)
	require.NoError(t, err)
	keyPEM, err := os.ReadFile(alice.keyFile)
	require.NoError(t, err)
	agentPort, _ := strconv.Atoi(h.agentPort())
	proxyAddr := h.startLocalProxy(alice)
	_, pp, _ := net.SplitHostPort(proxyAddr)
	proxyPort, _ := strconv.Atoi(pp)

	direct := route{
		name:   "direct",
		conn:   "host=127.0.0.1 port=" + strconv.Itoa(h.pg.Port()) + " user=pwuser password=" + directPassword + " dbname=postgres sslmode=require",
		node:   map[string]any{"host": "127.0.0.1", "port": h.pg.Port(), "user": "pwuser", "password": directPassword, "database": "postgres", "ssl": map[string]any{"rejectUnauthorized": false}},
		dbUser: "pwuser",
		ended:  func(t *testing.T, app string) { h.waitBackendGone(t, app) },
	}
	agent := route{
		name: "agent",
		conn: h.connString(alice, "alice", "postgres"),
		node: map[string]any{"host": "127.0.0.1", "port": agentPort, "user": "alice", "database": "postgres",
			"ssl": map[string]any{"ca": string(caPEM), "cert": string(certPEM), "key": string(keyPEM)}},
		dbUser: "alice",
		ended:  func(t *testing.T, app string) { h.waitBackendGone(t, app); h.waitSessionEnded(t, app) },
	}
	proxy := route{
		name:   "proxy",
		conn:   "host=127.0.0.1 port=" + pp + " user=alice dbname=postgres sslmode=disable",
		node:   map[string]any{"host": "127.0.0.1", "port": proxyPort, "user": "alice", "database": "postgres"},
		dbUser: "alice",
		ended:  agent.ended,
	}
	// Through the gateway, as alice: a role may end its own backends.
	viaRoute := func(conn string) func(t *testing.T, pid uint32) {
		return func(t *testing.T, pid uint32) {
			ctx := context.Background()
			c, err := pgx.Connect(ctx, conn+" application_name=terminator")
			require.NoError(t, err)
			defer c.Close(ctx)
			var ok bool
			require.NoError(t, c.QueryRow(ctx, "select pg_terminate_backend($1)", int64(pid)).Scan(&ok))
			require.True(t, ok, "pg_terminate_backend(%d) through the gateway", pid)
		}
	}
	direct.terminate = viaRoute(direct.conn)
	agent.terminate = viaRoute(agent.conn)
	proxy.terminate = viaRoute(proxy.conn)
	return []route{direct, agent, proxy}
}

// startLocalProxy runs what `toll proxy db` runs: agent/localproxy on a
// free loopback port with u's route cert, verifying the agent against the
// host CA. It returns the address.
func (h *harness) startLocalProxy(u user) string {
	t := h.t
	pair, err := tls.LoadX509KeyPair(u.certFile, u.keyFile)
	require.NoError(t, err)
	ca, err := os.ReadFile(h.hostCA)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(ca))
	p, err := localproxy.New(localproxy.Config{Agent: h.gw.Addr().String(), Logger: zerolog.Nop(),
		TLS: &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, ln) }()
	t.Cleanup(func() { stop(); require.NoError(t, <-done) })
	return ln.Addr().String()
}

// backend is a pg_stat_activity row.
type backend struct {
	pid          uint32
	user, app    string
	state, query string
}

// activity returns the client backends of application_name app (all
// when "").
func (h *harness) activity(t *testing.T, app string) []backend {
	ctx := context.Background()
	c, err := h.pg.Connect(ctx)
	require.NoError(t, err)
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `select pid, coalesce(usename, ''), application_name, coalesce(state, ''), query
		from pg_stat_activity where backend_type = 'client backend' and ($1 = '' or application_name = $1)`, app)
	require.NoError(t, err)
	var out []backend
	for rows.Next() {
		var b backend
		var pid int64
		require.NoError(t, rows.Scan(&pid, &b.user, &b.app, &b.state, &b.query))
		b.pid = uint32(pid)
		out = append(out, b)
	}
	require.NoError(t, rows.Err())
	return out
}

// backendOf returns the backend with pid, if it is there.
func (h *harness) backendOf(t *testing.T, pid uint32) (backend, bool) {
	for _, b := range h.activity(t, "") {
		if b.pid == pid {
			return b, true
		}
	}
	return backend{}, false
}

func (h *harness) waitBackendGone(t *testing.T, app string) {
	t.Helper()
	require.Eventually(t, func() bool { return len(h.activity(t, app)) == 0 }, 30*time.Second, 20*time.Millisecond,
		"the backend of %s ended", app)
}

// waitActive waits until app's backend runs a statement containing query
// and returns it.
func (h *harness) waitActive(t *testing.T, app, query string) backend {
	t.Helper()
	var got backend
	require.Eventually(t, func() bool {
		for _, b := range h.activity(t, app) {
			if b.state == "active" && b.query == query {
				got = b
				return true
			}
		}
		return false
	}, 30*time.Second, 20*time.Millisecond, "%s runs %q", app, query)
	return got
}

// waitSessionEnded waits until the agent recorded session.ended for the
// sessions whose startup named application_name app.
func (h *harness) waitSessionEnded(t *testing.T, app string) {
	t.Helper()
	require.Eventually(t, func() bool {
		ids := map[string]bool{}
		for _, ev := range h.events(schemas.TypeSessionStarted) {
			if s := decode[schemas.SessionStarted](t, ev); s.Params["application_name"] == app {
				ids[s.SessionID] = false
			}
		}
		for _, ev := range h.events(schemas.TypeSessionEnded) {
			if e := decode[schemas.SessionEnded](t, ev); e.SessionID != "" {
				if _, ok := ids[e.SessionID]; ok {
					ids[e.SessionID] = true
				}
			}
		}
		for _, done := range ids {
			if !done {
				return false
			}
		}
		return len(ids) > 0
	}, 30*time.Second, 20*time.Millisecond, "the agent recorded the end of %s's session", app)
}

// pgxConfig parses conn with application_name app; cancelling sends a
// CancelRequest when the context ends, before the connection is given up
// (pgconn.CancelRequestContextWatcherHandler), as drivers that cancel do.
func pgxConfig(t *testing.T, conn, app string, cancelling bool) *pgx.ConnConfig {
	cfg, err := pgx.ParseConfig(conn + " application_name=" + app)
	require.NoError(t, err)
	if cancelling {
		cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
			return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 20 * time.Second}
		}
	}
	return cfg
}

// requirePgError requires err to be a server error with code and
// severity.
func requirePgError(t *testing.T, err error, code, severity string, msgAndArgs ...any) {
	t.Helper()
	var pe *pgconn.PgError
	require.True(t, errors.As(err, &pe), "want a server error %s, got %v %v", code, err, msgAndArgs)
	require.Equal(t, code, pe.Code, "%s: %v", pe.Message, msgAndArgs)
	require.Equal(t, severity, pe.Severity, msgAndArgs...)
}
