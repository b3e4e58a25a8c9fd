package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
	"github.com/tollgate-db/tollgate/schemas"
)

// appendSession writes one session (sess-1) of an agent joined to the node
// into its real audit stream, as an agent does (chained, with the
// checkpoint at session end), and returns the agent.
func appendSession(t *testing.T, n *nodetest.Node) *nodetest.Agent {
	t.Helper()
	a := n.JoinAgent(t, "agent-t")
	a.Session("sess-1", "alice", "roach", "SELECT balance FROM accounts", "UPDATE accounts SET balance = 0")
	return a
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
	agent := appendSession(t, n)

	// search: by user and db, by type, by time, limit, JSON.
	out := admin.ok("audit", "search", "--user=alice", "--db=roach")
	require.Contains(t, out, "SELECT balance FROM accounts")
	require.Contains(t, out, "session.ended")
	out = admin.ok("audit", "search", "--type=session.started,session.ended")
	require.NotContains(t, out, "SELECT balance")
	require.Contains(t, out, "session.started")
	require.Contains(t, admin.ok("audit", "search", "--user=bob"), "No audit event matches.")
	require.Contains(t, admin.ok("audit", "search", "--until=2000-01-01T00:00:00Z"), "No audit event matches.")
	// Paging: a search larger than --limit says so, in text and JSON, and
	// --after goes on from the cursor until every event was seen once.
	var all wire.AuditResults
	require.NoError(t, json.Unmarshal([]byte(admin.ok("audit", "search", "--session=sess-1", "--format=json")), &all))
	require.False(t, all.More)
	var seqs []uint64
	for _, e := range all.Events {
		seqs = append(seqs, e.Seq)
	}
	require.Len(t, seqs, 6, "started, 2 × (query, query.result), ended")
	var page wire.AuditResults
	require.NoError(t, json.Unmarshal([]byte(admin.ok("audit", "search", "--session=sess-1", "--limit=2", "--format=json")), &page))
	require.Len(t, page.Events, 2)
	require.Equal(t, schemas.TypeSessionStarted, page.Events[0].Event.Type)
	require.True(t, page.More)
	require.Equal(t, seqs[1], page.Cursor)
	out = admin.ok("audit", "search", "--session=sess-1", "--limit=2")
	require.Contains(t, out, fmt.Sprintf("More events match: this page stops at stream seq %d; for the next page, run the same search with --after=%d", seqs[1], seqs[1]))
	var seen []uint64
	for after := uint64(0); ; {
		page = wire.AuditResults{}
		require.NoError(t, json.Unmarshal([]byte(admin.ok("audit", "search", "--session=sess-1", "--limit=2",
			fmt.Sprintf("--after=%d", after), "--format=json")), &page))
		for _, e := range page.Events {
			seen = append(seen, e.Seq)
		}
		if !page.More {
			require.Zero(t, page.Cursor)
			break
		}
		after = page.Cursor
	}
	require.Equal(t, seqs, seen)
	out = admin.ok("audit", "search", "--session=sess-1", "--limit=2", fmt.Sprintf("--after=%d", seqs[3]))
	require.Contains(t, out, "session.ended")
	require.NotContains(t, out, "More events match", "the last page")
	require.Contains(t, admin.fail("audit", "search", "--limit=0"), "--limit must be at least 1")
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
	diff := admin.ok("access", "diff", before, time.Now().UTC().Format(time.RFC3339Nano))
	require.Contains(t, diff, "user     added    user alice added")
	require.Contains(t, admin.fail("access", "diff", "0s", "1h"), "the second not before the first")

	// verify: intact; a delete through the JetStream API is refused
	// (tampering through a plain nats-server: audit_tamper_test.go).
	require.Contains(t, admin.ok("audit", "verify"), "OK: every chain is intact")
	require.Regexp(t, agent.ID+`\s+agent\s+7\s+1..7\s+1/1\s+seq 7\s+ok`, admin.ok("audit", "verify"))
	require.Contains(t, admin.ok("audit", "verify", "--since=1h"), agent.ID)
	ctx := context.Background()
	st, err := n.Env.Log.JS.Stream(ctx, eventlog.AuditStream)
	require.NoError(t, err)
	require.Error(t, st.DeleteMsg(ctx, 1), "the audit stream denies deletes")
}
