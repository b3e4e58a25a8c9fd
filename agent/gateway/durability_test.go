package gateway_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/gateway"
	"github.com/tollgate-db/tollgate/agent/relay"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/schemas"
)

// asyncHarness is a harness whose agent audits in async mode with a spool
// of spoolMax bytes (0: the default).
func asyncHarness(t *testing.T, spoolMax int64) *harness {
	return newHarnessWith(t, func(h *harness) {
		h.opt = func(o *gateway.Options) {
			o.AuditMode = relay.Async
			o.SpoolMaxBytes = spoolMax
		}
	})
}

// minSpoolMaxBytes is the least db_service.spool_max_bytes (agent/config):
// room for a few events of the maximum size.
const minSpoolMaxBytes = 256 << 10

// requireChainIntact verifies every source's hash chain in the audit
// stream.
func (h *harness) requireChainIntact(t *testing.T) eventlog.Report {
	t.Helper()
	rep, err := eventlog.Verify(h.ctx, h.audit, eventlog.Query{})
	require.NoError(t, err)
	require.True(t, rep.OK(), "chain: %+v", rep.Problems)
	return rep
}

// TestAsyncRefusesWhenSpoolFull: in async mode with NATS down, queries run
// until the spool (db_service.spool_max_bytes) is full; from then on each is
// refused with 58000 and the reason, never reaches PostgreSQL, is counted
// in /metrics, and /healthz fails; once NATS is back and the spool drains,
// /healthz recovers and queries run again, the chain unbroken.
func TestAsyncRefusesWhenSpoolFull(t *testing.T) {
	h := asyncHarness(t, minSpoolMaxBytes)
	h.addUser("alice", []string{"access"}, []string{"alice"})
	alice := h.dbCert("alice", "roach", time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, h.connString(alice, "alice", "postgres"))
	require.NoError(t, err)
	defer c.Close(ctx)
	_, err = c.Exec(ctx, "select 'before the outage'")
	require.NoError(t, err)

	h.stopNATS()
	refusedAt := -1
	for i := range 5000 {
		_, err := c.Exec(ctx, fmt.Sprintf("select 'filling %d'", i))
		if err != nil {
			var pe *pgconn.PgError
			require.True(t, errors.As(err, &pe), "%v", err)
			require.Equal(t, pgwire.CodeAuditUnavailable, pe.Code, pe.Message)
			require.Contains(t, pe.Message, "query not executed")
			require.Contains(t, pe.Message, "spool full", "the reason is in the message")
			refusedAt = i
			break
		}
	}
	require.Positive(t, refusedAt, "the spool fills and then refuses")
	_, err = c.Exec(ctx, "select 'refused while full'")
	var pe *pgconn.PgError
	require.True(t, errors.As(err, &pe), "%v", err)
	require.Equal(t, pgwire.CodeAuditUnavailable, pe.Code)
	log := h.pg.LogContents()
	require.Contains(t, log, fmt.Sprintf("filling %d", refusedAt-1), "queries ran until the spool was full")
	require.NotContains(t, log, fmt.Sprintf("'filling %d'", refusedAt), "a refused query never reaches the database")
	require.NotContains(t, log, "refused while full")

	code, body := h.scrape(t, "/healthz")
	require.Equal(t, http.StatusServiceUnavailable, code, body)
	require.Contains(t, body, "spool full")
	_, body = h.scrape(t, "/metrics")
	require.Equal(t, "2", metricValue(body, `tollgate_agent_queries_refused_total{reason="spool_full"}`), body)

	h.startNATS(h.natsAddr)
	require.Eventually(t, func() bool {
		code, _ := h.scrape(t, "/healthz")
		return code == http.StatusOK
	}, 60*time.Second, 50*time.Millisecond, "healthy again once the spool drains")
	_, err = c.Exec(ctx, "select 'after the outage'")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return h.sawQuery(t, "'after the outage'") }, 60*time.Second, 50*time.Millisecond)
	require.Contains(t, h.pg.LogContents(), "after the outage")
	for _, s := range h.queriesOf(t, "alice") {
		require.False(t, strings.Contains(s, "refused while full") || strings.Contains(s, fmt.Sprintf("'filling %d'", refusedAt)),
			"no query event claims a refused query ran: %q", s)
	}
	h.requireChainIntact(t)
}

// TestOversizeEventRecordedInBothModes: a query whose event is over the
// size bound (a 100 KiB statement name, a 70 KiB parameter) runs in strict
// and in async mode and is recorded, cut, flagged and hashed, never
// dropped or refused.
func TestOversizeEventRecordedInBothModes(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", []string{"access"}, []string{"alice"})
	name := strings.Repeat("n", 100<<10)
	param := strings.Repeat("p", 70<<10)
	for _, mode := range []string{"strict", "async"} {
		if mode == "async" {
			h.stopAgent()
			h.opt = func(o *gateway.Options) { o.AuditMode = relay.Async }
			h.startAgent()
		}
		alice := h.dbCert("alice", "roach", time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		c, err := pgconn.Connect(ctx, h.connString(alice, "alice", "postgres"))
		require.NoError(t, err)
		stmt := "select 'oversize " + mode + "', length($1::text)"
		// Parse, Bind, Execute, Sync: PostgreSQL takes a name this long in
		// Parse and Bind (not in Describe or Close).
		fe := c.Frontend()
		fe.Send(&pgproto3.Parse{Name: name, Query: stmt})
		fe.Send(&pgproto3.Bind{PreparedStatement: name, Parameters: [][]byte{[]byte(param)}})
		fe.Send(&pgproto3.Execute{})
		fe.Send(&pgproto3.Sync{})
		require.NoError(t, fe.Flush())
		var row []string
		for {
			m, err := c.ReceiveMessage(ctx)
			require.NoError(t, err, mode)
			switch m := m.(type) {
			case *pgproto3.ErrorResponse:
				t.Fatalf("%s: %s %s", mode, m.Code, m.Message)
			case *pgproto3.DataRow:
				for _, v := range m.Values {
					row = append(row, string(v))
				}
			}
			if _, ok := m.(*pgproto3.ReadyForQuery); ok {
				break
			}
		}
		require.Equal(t, []string{"oversize " + mode, fmt.Sprint(len(param))}, row, "the query ran (%s)", mode)
		require.NoError(t, c.Close(ctx))
		cancel()

		var q schemas.Query
		require.Eventually(t, func() bool {
			for _, ev := range h.events(schemas.TypeQuery) {
				if d := decode[schemas.Query](t, ev); strings.Contains(d.Statement, "oversize "+mode) {
					q = d
					return true
				}
			}
			return false
		}, 30*time.Second, 50*time.Millisecond, "the oversize query is recorded (%s)", mode)
		require.True(t, q.Truncated, mode)
		require.Equal(t, sha256Hex(stmt), q.SHA256, "the full statement's hash (%s)", mode)
		require.True(t, strings.HasPrefix(name, q.StatementName) && len(q.StatementName) < len(name), "the name is cut (%s)", mode)
		require.Len(t, q.Params, 1)
		require.Equal(t, sha256Hex(param), q.Params[0].SHA256, "the full parameter's hash (%s)", mode)
		require.True(t, strings.HasPrefix(param, q.Params[0].Value), mode)
		require.Contains(t, h.pg.LogContents(), "oversize "+mode)
	}
	h.requireChainIntact(t)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestSpoolDirSwitchedBackDoesNotForkTheChain: an agent moved to a new
// spool dir and then back to its older one continues its chain from the
// stream (newer than the old spool), so the chain has no fork.
func TestSpoolDirSwitchedBackDoesNotForkTheChain(t *testing.T) {
	var spoolDir string
	h := newHarnessWith(t, func(h *harness) {
		spoolDir = filepath.Join(h.dir, "spool-a")
		h.opt = func(o *gateway.Options) { o.SpoolDir = spoolDir }
	})
	h.addUser("alice", []string{"access"}, []string{"alice"})
	alice := h.dbCert("alice", "roach", time.Hour)
	run := func(marker string) {
		out, err := execPsql(h.connString(alice, "alice", "postgres"), "-c", "select '"+marker+"'")
		require.NoError(t, err, out)
		require.Eventually(t, func() bool { return h.sawQuery(t, marker) }, 30*time.Second, 20*time.Millisecond)
	}
	run("in spool a")
	for _, dir := range []string{"spool-b", "spool-a"} {
		h.stopAgent() // drains: every event is stored
		spoolDir = filepath.Join(h.dir, dir)
		h.startAgent()
		run("in " + dir)
	}
	h.stopAgent()
	rep := h.requireChainIntact(t)
	require.Greater(t, rep.Checked[h.gw.AgentID()], uint64(6), "the agent's chain spans the three runs")
}
