package gateway_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/gateway"
	"github.com/tollgate-db/tollgate/agent/relay"
	"github.com/tollgate-db/tollgate/agent/upstream"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestAsyncAudit: in async mode queries run at once even with NATS down,
// and once NATS is back every event arrives exactly once (by id).
func TestAsyncAudit(t *testing.T) {
	h := newHarnessWith(t, func(h *harness) {
		h.opt = func(o *gateway.Options) { o.AuditMode = relay.Async }
	})
	h.addUser("alice", []string{"access"}, []string{"alice"})
	alice := h.dbCert("alice", "roach", time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, h.connString(alice, "alice", "postgres"))
	require.NoError(t, err)
	_, err = c.Exec(ctx, "select 'async before outage'")
	require.NoError(t, err)

	h.stopNATS()
	const n = 20
	for i := 0; i < n; i++ {
		var s string
		require.NoError(t, c.QueryRow(ctx, fmt.Sprintf("select 'async during outage %d'", i)).Scan(&s))
		require.Equal(t, fmt.Sprintf("async during outage %d", i), s)
	}
	require.Contains(t, h.pg.LogContents(), fmt.Sprintf("async during outage %d", n-1), "queries ran during the outage")
	require.NoError(t, c.Close(ctx))

	h.startNATS(h.natsAddr)
	require.Eventually(t, func() bool {
		got := 0
		for i := 0; i < n; i++ {
			if h.sawQuery(t, fmt.Sprintf("'async during outage %d'", i)) {
				got++
			}
		}
		return got == n && h.ended(t, schemas.EndClient) >= 1
	}, 60*time.Second, 100*time.Millisecond, "stored: %d events, %d ended", len(h.events("")), len(h.events(schemas.TypeSessionEnded)))
	ids := map[string]int{}
	for _, ev := range h.events("") {
		ids[ev.ID]++
	}
	for id, k := range ids {
		require.Equal(t, 1, k, "event %s stored %d times", id, k)
	}
	require.Len(t, h.queriesOf(t, "alice"), n+1)
}

// TestIdleTimeout: a session with no traffic for idle_timeout is ended
// with 57P05 and session.ended reason idle.
func TestIdleTimeout(t *testing.T) {
	h := newHarnessWith(t, func(h *harness) {
		h.opt = func(o *gateway.Options) { o.IdleTimeout = time.Second }
	})
	h.addUser("alice", []string{"access"}, []string{"alice"})
	alice := h.dbCert("alice", "roach", time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgconn.Connect(ctx, h.connString(alice, "alice", "postgres"))
	require.NoError(t, err)
	defer c.Close(ctx)
	_, err = c.Exec(ctx, "select 'before idle'").ReadAll()
	require.NoError(t, err)
	require.Eventually(t, func() bool { return h.ended(t, schemas.EndIdle) == 1 }, 20*time.Second, 50*time.Millisecond)
	_ = c.Conn().SetReadDeadline(time.Now().Add(20 * time.Second))
	rest, _ := io.ReadAll(c.Conn())
	require.Contains(t, string(rest), "57P05")
	require.Contains(t, string(rest), "idle for more than 1s")
}

// TestCertExpiryEndsSession: a live session ends when the user's cert
// expires.
func TestCertExpiryEndsSession(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", []string{"access"}, []string{"alice"})
	short := h.dbCert("alice", "roach", 5*time.Second)
	cmd := exec.Command("psql", "-X", h.connString(short, "alice", "postgres"))
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	var out syncBuf
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	_, err = io.WriteString(stdin, "select 'short-lived ready';\n")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "short-lived ready") }, 20*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return h.ended(t, schemas.EndCertExpired) == 1 }, 30*time.Second, 50*time.Millisecond)
	_, _ = io.WriteString(stdin, "select 'after expiry';\n")
	stdin.Close()
	_ = cmd.Wait()
	require.Contains(t, out.String(), "certificate or session expired")
	require.NotContains(t, h.pg.LogContents(), "after expiry")
}

// TestReloadOnSIGHUP: a database the reloaded options add is served after
// SIGHUP, verified against the CA file read at reload; a reload that fails,
// or gives options that cannot work, is refused and the running options
// stay.
func TestReloadOnSIGHUP(t *testing.T) {
	var (
		mu     sync.Mutex
		reload func() (gateway.Reloadable, error)
	)
	h := newHarnessWith(t, func(h *harness) {
		h.opt = func(o *gateway.Options) {
			o.Reloader = func(context.Context) (gateway.Reloadable, error) {
				mu.Lock()
				defer mu.Unlock()
				return reload()
			}
		}
		h.run = (*gateway.Gateway).RunWithSignals
	})
	setReload := func(f func() (gateway.Reloadable, error)) {
		mu.Lock()
		reload = f
		mu.Unlock()
	}
	h.addUser("alice", []string{"access"}, []string{"alice"})
	setReload(func() (gateway.Reloadable, error) {
		pemCA, err := os.ReadFile(filepath.Join(h.dir, "certs", "ca.crt"))
		if err != nil {
			return gateway.Reloadable{}, err
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pemCA) {
			return gateway.Reloadable{}, errors.New("ca.crt holds no certificate")
		}
		return gateway.Reloadable{Databases: []gateway.Database{
			{Name: "roach", Protocol: "postgres", URI: h.pg.Addr(), Labels: map[string]string{"env": "dev"}},
			{Name: "added", Protocol: "postgres", URI: h.pg.Addr(), Labels: map[string]string{"env": "dev"}, Roots: roots},
		}}, nil
	})
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	require.Eventually(t, func() bool {
		ok := false
		h.svc.View(func(st *projections.State) { _, ok = st.Databases["added"] })
		return ok
	}, 30*time.Second, 20*time.Millisecond)
	alice := h.dbCert("alice", "added", time.Hour)
	out, err := execPsql(h.connString(alice, "alice", "postgres"), "-c", "select 'via the added database'")
	require.NoError(t, err, out)
	require.Contains(t, out, "via the added database")

	// A failed reload is refused and the running options stay.
	errBroken := errors.New("db_service.audit_mode (line 2): must be strict or async")
	setReload(func() (gateway.Reloadable, error) { return gateway.Reloadable{}, errBroken })
	require.ErrorIs(t, h.gw.Reload(h.ctx), errBroken)
	// So are options that cannot work.
	setReload(func() (gateway.Reloadable, error) { return gateway.Reloadable{IdleTimeout: -time.Second}, nil })
	require.ErrorIs(t, h.gw.Reload(h.ctx), gateway.ErrInvalidOptions)
	out, err = execPsql(h.connString(alice, "alice", "postgres"), "-c", "select 'still served'")
	require.NoError(t, err, out)
}

// scrape returns the agent's /metrics text.
func (h *harness) scrape(t *testing.T, path string) (int, string) {
	resp, err := http.Get("http://" + h.gw.MetricsAddr().String() + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func metricValue(text, name string) string {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, name+" ") {
			return strings.TrimPrefix(line, name+" ")
		}
	}
	return ""
}

// TestMetricsAndCockroachDB: /metrics counts sessions, queries and
// rejections by reason; /healthz answers; for a cockroachdb database db
// names are not enforced and session.started says so.
func TestMetricsAndCockroachDB(t *testing.T) {
	h := newHarnessWith(t, func(h *harness) {
		h.opt = func(o *gateway.Options) {
			o.Databases = append(o.Databases, gateway.Database{Name: "crdb", Protocol: "cockroachdb",
				URI: h.pg.Addr(), Labels: map[string]string{"env": "dev"}, TLSMode: upstream.VerifyFull})
		}
	})
	code, body := h.scrape(t, "/healthz")
	require.Equal(t, http.StatusOK, code, body)

	// Roles allowing only db name "postgres": enforced for postgres, not
	// for cockroachdb.
	_, err := h.svc.Roles().Create(h.ctx, h.admin, schemas.Role{Name: "pgonly", Spec: schemas.RoleSpec{Allow: schemas.RoleConditions{
		DBLabels: map[string][]string{"env": {"dev"}}, DBUsers: []string{"alice"}, DBNames: []string{"postgres"}}}})
	require.NoError(t, err)
	_, err = h.svc.Users().Add(h.ctx, h.admin, schemas.User{Name: "erin", Roles: []string{"pgonly"}})
	require.NoError(t, err)
	roach := h.dbCert("erin", "roach", time.Hour)
	crdb := h.dbCert("erin", "crdb", time.Hour)

	out, err := execPsql(h.connString(roach, "alice", "template1"), "-c", "select 1")
	require.Error(t, err, out)
	out, err = execPsql(h.connString(crdb, "alice", "template1"), "-c", "select 'crdb any db name'")
	require.NoError(t, err, out)
	require.Contains(t, out, "crdb any db name")
	var started schemas.SessionStarted
	for _, ev := range h.events(schemas.TypeSessionStarted) {
		if s := decode[schemas.SessionStarted](t, ev); s.Database == "crdb" {
			started = s
		}
	}
	require.Equal(t, "cockroachdb", started.Protocol)
	require.Equal(t, "template1", started.DBName)
	require.Contains(t, started.Decision, "db names are not enforced for cockroachdb")

	rej := h.rejections("erin")
	require.Len(t, rej, 1)
	require.Eventually(t, func() bool { return h.ended(t, schemas.EndClient) == 1 }, 20*time.Second, 50*time.Millisecond)
	_, body = h.scrape(t, "/metrics")
	require.Equal(t, "1", metricValue(body, "tollgate_agent_sessions_total"), body)
	require.Equal(t, "0", metricValue(body, "tollgate_agent_active_sessions"), body)
	require.Equal(t, "1", metricValue(body, "tollgate_agent_queries_total"), body)
	require.Equal(t, "1", metricValue(body, `tollgate_agent_rejections_total{reason="`+rej[0].Code+`"}`), body)
	require.Equal(t, "1", metricValue(body, `tollgate_agent_sessions_ended_total{reason="client"}`), body)

	// Draining: unhealthy.
	h.stopAgent()
	_, err = http.Get("http://" + h.gw.MetricsAddr().String() + "/healthz")
	require.Error(t, err, "the metrics listener stops with the agent")
}

// TestSessionRecordsSurviveOutageAndRestart: session.rejected and
// session.ended recorded while NATS is down are spooled on disk; they
// arrive (once) after the agent restarts and NATS is back.
func TestSessionRecordsSurviveOutageAndRestart(t *testing.T) {
	h := newHarnessWith(t, func(h *harness) {
		h.opt = func(o *gateway.Options) { o.Grace = time.Second }
	})
	h.addUser("alice", []string{"access"}, []string{"alice"})
	h.addUser("bob", []string{"access"}, []string{"alice"})
	alice := h.dbCert("alice", "roach", time.Hour)
	bob := h.dbCert("bob", "roach", time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, h.connString(alice, "alice", "postgres"))
	require.NoError(t, err)
	_, err = c.Exec(ctx, "select 'before outage'")
	require.NoError(t, err)

	h.stopNATS()
	out, err := execPsql(h.connString(bob, "bob", "postgres"), "-c", "select 1")
	require.Error(t, err, out)
	require.NoError(t, c.Close(ctx)) // session.ended during the outage
	// Close returns once the Terminate is written, not once the agent has
	// read it: stopping the agent at once would race the Terminate against
	// draining (which ends the session with reason shutdown). The session
	// must end by itself, log down or not, before the agent stops.
	require.Eventually(t, func() bool { return h.gw.Active() == 0 }, 20*time.Second, 5*time.Millisecond,
		"the client's Terminate ends the session while the audit log is down")
	h.stopAgent() // with both records unstored

	h.startNATS(h.natsAddr)
	h.startAgent()
	require.Eventually(t, func() bool {
		return len(h.rejections("bob")) == 1 && h.ended(t, schemas.EndClient) == 1
	}, 60*time.Second, 100*time.Millisecond)
	ids := map[string]int{}
	for _, ev := range h.events("") {
		ids[ev.ID]++
	}
	for id, k := range ids {
		require.Equal(t, 1, k, "event %s stored %d times", id, k)
	}
}
