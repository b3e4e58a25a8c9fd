package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
	"github.com/tollgate-db/tollgate/schemas"
)

// appendSession writes one agent session's chained audit events into the
// node's real audit stream, as an agent would, and returns their stream
// sequences. The event at index skip (if any) is chained but not written.
func appendSession(t *testing.T, n *nodetest.Node, chain *eventlog.Chainer, skip int) []uint64 {
	t.Helper()
	ctx := context.Background()
	b := eventlog.NewBuilder("agent-t")
	var seqs []uint64
	add := func(typ string, data any) {
		ev, err := b.Build(typ, 1, "alice", eventlog.AuditSubject("roach", "alice", "sess-1", typ), data)
		require.NoError(t, err)
		require.NoError(t, chain.Next(&ev))
		if len(seqs) == skip {
			seqs = append(seqs, 0)
			return
		}
		seq, err := n.Env.Log.Audit.Append(ctx, ev)
		require.NoError(t, err)
		seqs = append(seqs, seq)
	}
	add(schemas.TypeSessionStarted, schemas.SessionStarted{SessionID: "sess-1", User: "alice", Database: "roach", DBUser: "alice",
		DBName: "bank", Protocol: "postgres", ClientAddr: "192.0.2.1:5000", AgentID: "agent-t"})
	add(schemas.TypeQuery, schemas.Query{SessionID: "sess-1", N: 1, Kind: "simple", Statement: "SELECT balance FROM accounts"})
	add(schemas.TypeQueryResult, schemas.QueryResult{SessionID: "sess-1", N: 1, Status: "ok", CommandTag: "SELECT 1", Rows: 1})
	add(schemas.TypeQuery, schemas.Query{SessionID: "sess-1", N: 2, Kind: "simple", Statement: "UPDATE accounts SET balance = 0"})
	add(schemas.TypeSessionEnded, schemas.SessionEnded{SessionID: "sess-1", Reason: schemas.EndClient, Queries: 2})
	return seqs
}

// TestAuditCommands drives audit search, audit session, access at and
// audit verify against a real node, then deletes one audit event through
// the JetStream API and checks that verify fails naming it.
func TestAuditCommands(t *testing.T) {
	n := nodetest.Start(t, nil)
	t.Setenv("TOLLGATE_HOME", t.TempDir())
	admin := cli{t: t, n: n, args: []string{"--data-dir", n.DataDir}}
	before := time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
	admin.ok("users", "add", "--roles=access", "--db-users=alice", "alice")
	chain := eventlog.NewChainer(0, "")
	seqs := appendSession(t, n, chain, -1)

	// search: by user and db, by type, by time, limit, JSON.
	out := admin.ok("audit", "search", "--user=alice", "--db=roach")
	require.Contains(t, out, "SELECT balance FROM accounts")
	require.Contains(t, out, "session.ended")
	out = admin.ok("audit", "search", "--type=session.started,session.ended")
	require.NotContains(t, out, "SELECT balance")
	require.Contains(t, out, "session.started")
	require.Contains(t, admin.ok("audit", "search", "--user=bob"), "No audit event matches.")
	require.Contains(t, admin.ok("audit", "search", "--until=2000-01-01T00:00:00Z"), "No audit event matches.")
	var evs []wire.Event
	require.NoError(t, json.Unmarshal([]byte(admin.ok("audit", "search", "--session=sess-1", "--limit=2", "--format=json")), &evs))
	require.Len(t, evs, 2)
	require.Equal(t, schemas.TypeSessionStarted, evs[0].Event.Type)
	require.Contains(t, admin.fail("audit", "search", "--since=yesterday"), "RFC 3339")
	require.Contains(t, admin.fail("audit", "search", "--since=1h", "--until=2h"), "before its start")

	// session transcript.
	out = admin.ok("audit", "session", "sess-1")
	require.Contains(t, out, "SELECT balance FROM accounts")
	require.Contains(t, out, "UPDATE accounts SET balance = 0")
	require.Contains(t, admin.fail("audit", "session", "nope"), "session nope")

	// access at.
	require.Contains(t, admin.ok("access", "at", time.Now().UTC().Format(time.RFC3339Nano), "--user=alice"), "roles: access")
	require.Contains(t, admin.ok("access", "at", before, "--user=alice"), "did not exist")
	require.Contains(t, admin.fail("access", "at", "now"), "--user is required")

	// verify: intact; a delete through the JetStream API is refused; an
	// event missing from the chain is reported.
	require.Contains(t, admin.ok("audit", "verify"), "OK: every chain is intact.")
	require.Contains(t, admin.ok("audit", "verify", "--since=1h"), "agent-t")
	ctx := context.Background()
	st, err := n.Env.Log.JS.Stream(ctx, eventlog.AuditStream)
	require.NoError(t, err)
	require.Error(t, st.DeleteMsg(ctx, seqs[1]), "the audit stream denies deletes")
	appendSession(t, n, chain, 1)
	outText, errText, code := admin.run("", "audit", "verify")
	require.Equal(t, 1, code, outText)
	require.Contains(t, outText, "FAILED")
	require.Contains(t, errText, "audit chain broken")
	require.Contains(t, errText, "missing event of agent-t")
}
