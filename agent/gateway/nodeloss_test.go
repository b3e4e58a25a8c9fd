package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/gateway"
	"github.com/tollgate-db/tollgate/agent/relay"
	"github.com/tollgate-db/tollgate/agent/relay/difftest"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/internal/natstest"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestMain removes the nats-server natstest built, if a test did.
func TestMain(m *testing.M) { natstest.Main(m) }

// clusterLog runs the event log on three nats-server processes, both
// streams at three replicas.
func clusterLog(c **natstest.Cluster) func(*harness) (*nats.Conn, jetstream.Config) {
	return func(h *harness) (*nats.Conn, jetstream.Config) {
		*c = natstest.Start(h.t, natstest.Options{Nodes: 3})
		nc, err := (*c).Connect(nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
		require.NoError(h.t, err)
		cfg := jetstream.Config{Replicas: 3}.WithDefaults()
		return nc, cfg
	}
}

// loadSession runs simple queries on one strict session until stopped,
// counting those that succeeded and those refused with 58000 (the log
// could not take the event: the query did not run).
type loadSession struct {
	user           string
	ok, refused    atomic.Int64
	err            error // anything else ends the session: the test fails
	last           string
	startStatement string
}

func (s *loadSession) run(ctx context.Context, conn string, stop <-chan struct{}) {
	c, err := pgconn.Connect(ctx, conn)
	if err != nil {
		s.err = err
		return
	}
	defer c.Close(context.Background())
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		q := fmt.Sprintf("SELECT %d AS n, '%s' AS who", i, s.user)
		if i == 0 {
			q = s.startStatement
		}
		qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := c.Exec(qctx, q).ReadAll()
		cancel()
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
			s.ok.Add(1)
		case errors.As(err, &pgErr) && pgErr.Code == "58000":
			s.refused.Add(1)
		default:
			s.err = fmt.Errorf("query %d: %w", i, err)
			return
		}
		s.last = q
	}
}

// TestSessionsSurviveNATSNodeLoss kills the node leading the audit
// stream under load, restarts it, then restarts all three nodes one by
// one: the sessions go on (in strict mode a query in a gap is refused with
// 58000 or runs; in async mode every query runs), and afterwards
// PostgreSQL's log_statement=all and the audit agree statement by
// statement for every session (nothing ran unrecorded, nothing async was
// lost), no event id is stored twice, and audit verify finds the chains
// intact.
func TestSessionsSurviveNATSNodeLoss(t *testing.T) {
	for _, m := range []struct {
		name string
		mode relay.Mode
	}{{"strict", relay.Strict}, {"async", relay.Async}} {
		t.Run(m.name, func(t *testing.T) { testNodeLoss(t, m.mode) })
	}
}

func testNodeLoss(t *testing.T, mode relay.Mode) {
	var c *natstest.Cluster
	h := newHarnessOn(t, clusterLog(&c), func(h *harness) {
		h.opt = func(o *gateway.Options) { o.AuditMode = mode }
	})
	users := []string{"alice", "bob", "carol"}
	var sessions []*loadSession
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, u := range users {
		h.addUser(u, []string{"access"}, []string{u})
		s := &loadSession{user: u, startStatement: "SELECT 'nodeloss-start-" + u + "'"}
		sessions = append(sessions, s)
		conn := h.connString(h.dbCert(u, "roach", time.Hour), u, "postgres")
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.run(h.ctx, conn, stop)
		}()
	}
	stopped := false
	stopLoad := func() {
		if !stopped {
			stopped = true
			close(stop)
			wg.Wait()
		}
	}
	t.Cleanup(stopLoad)
	progress := func(what string) {
		t.Helper()
		base := make([]int64, len(sessions))
		for i, s := range sessions {
			base[i] = s.ok.Load()
		}
		require.Eventually(t, func() bool {
			for i, s := range sessions {
				require.NoError(t, s.err, "session of %s", s.user)
				if s.ok.Load() < base[i]+30 {
					return false
				}
			}
			return true
		}, 2*time.Minute, 20*time.Millisecond, "every session runs 30 more queries %s", what)
	}
	progress("before any node stops")

	leader := h.auditLeader(t, c)
	require.NoError(t, c.Stop(leader))
	progress("with the audit stream's leader stopped")
	require.NoError(t, c.Restart(h.ctx, leader))
	h.waitReplicasCurrent(t)
	progress("with the node back")
	for i := range 3 {
		require.NoError(t, c.Stop(i))
		progress(fmt.Sprintf("with node %d of a rolling restart stopped", i+1))
		require.NoError(t, c.Restart(h.ctx, i))
		h.waitReplicasCurrent(t)
	}
	progress("after the rolling restart")
	stopLoad()
	for _, s := range sessions {
		require.NoError(t, s.err, "session of %s", s.user)
		t.Logf("%s: %d queries ran, %d refused with 58000", s.user, s.ok.Load(), s.refused.Load())
		if mode == relay.Async {
			require.Zero(t, s.refused.Load(), "async sessions spool through an outage")
		}
	}

	logs := h.pg.LogContents()
	for _, s := range sessions {
		evs := h.sessionQueries(t, s.startStatement, s.last)
		logged := difftest.Logged(logs, "["+s.user+"] LOG:  ")
		require.Empty(t, difftest.Compare(logged, evs), "session of %s", s.user)
	}
	ids := map[string]bool{}
	for _, ev := range h.events("") {
		require.False(t, ids[ev.ID], "event %s stored twice", ev.ID)
		ids[ev.ID] = true
	}
	h.stopAgent()
	require.NoError(t, h.svc.Checkpoint(h.ctx, schemas.CheckpointShutdown))
	rep, err := h.svc.Audit().Verify(h.ctx, h.admin, wire.AuditVerify{})
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep.Problems)
}

// auditLeader is the index of the node leading the audit stream.
func (h *harness) auditLeader(t *testing.T, c *natstest.Cluster) int {
	t.Helper()
	info := h.auditInfo(t)
	require.NotNil(t, info.Cluster)
	i := c.Index(info.Cluster.Leader)
	require.GreaterOrEqual(t, i, 0, "leader %q", info.Cluster.Leader)
	return i
}

func (h *harness) auditInfo(t *testing.T) *natsjs.StreamInfo {
	t.Helper()
	js, err := natsjs.New(h.nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, eventlog.AuditStream)
	require.NoError(t, err)
	info, err := st.Info(ctx)
	require.NoError(t, err)
	return info
}

// waitReplicasCurrent waits until the audit stream has a leader and two
// current replicas.
func (h *harness) waitReplicasCurrent(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		js, err := natsjs.New(h.nc)
		if err != nil {
			return false
		}
		ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
		defer cancel()
		st, err := js.Stream(ctx, eventlog.AuditStream)
		if err != nil {
			return false
		}
		info, err := st.Info(ctx)
		if err != nil || info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) != 2 {
			return false
		}
		for _, r := range info.Cluster.Replicas {
			if !r.Current || r.Offline {
				return false
			}
		}
		return true
	}, 2*time.Minute, 100*time.Millisecond, "the audit stream's replicas catch up")
}

// sessionQueries returns the query and query.result events of the session
// whose first statement is start, once the result of its last statement
// is stored.
func (h *harness) sessionQueries(t *testing.T, start, last string) []eventlog.Event {
	t.Helper()
	var evs []eventlog.Event
	require.Eventually(t, func() bool {
		evs = nil
		session, lastN := "", uint64(0)
		done := false
		for _, ev := range h.events("") {
			v, err := schemas.Decode(ev)
			if err != nil {
				continue
			}
			switch d := v.(type) {
			case *schemas.Query:
				if session == "" && d.Statement == start {
					session = d.SessionID
				}
				if d.SessionID == session && session != "" {
					evs = append(evs, ev)
					if d.Statement == last {
						lastN = d.N
					}
				}
			case *schemas.QueryResult:
				if d.SessionID == session && session != "" {
					evs = append(evs, ev)
					done = done || (lastN != 0 && d.N == lastN)
				}
			}
		}
		return done
	}, time.Minute, 100*time.Millisecond, "the result of %q is stored", last)
	require.True(t, strings.Contains(eventsText(evs), start))
	return evs
}

func eventsText(evs []eventlog.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		b.Write(ev.Data)
	}
	return b.String()
}
