package gateway_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/auditquery"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// agentEvents returns the audit events the agent wrote, in chain order.
func (h *harness) agentEvents() []eventlog.Event {
	var out []eventlog.Event
	for _, ev := range h.events("") {
		if ev.Source == h.gw.AgentID() {
			out = append(out, ev)
		}
	}
	return out
}

// TestCheckpoints: a real session through the agent (psql, PostgreSQL)
// is followed by a checkpoint signed with the agent's host key right after
// its session.ended; a stopped agent's chain ends with a checkpoint; and
// audit verify (through control, against the control stream) finds every
// chain intact and signed up to its end — a query with "<" and "&" in it
// included.
func TestCheckpoints(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", []string{"access"}, []string{"alice"})
	alice := h.dbCert("alice", "roach", time.Hour)
	out, err := execPsql(h.connString(alice, "alice", "postgres"), "-c", "select 1 where 1 < 2 and 'a&b' <> 'c'")
	require.NoError(t, err, out)
	require.Eventually(t, func() bool {
		evs := h.agentEvents()
		return len(evs) > 0 && evs[len(evs)-1].Type == schemas.TypeAuditCheckpoint
	}, 30*time.Second, 20*time.Millisecond, "a checkpoint follows the session's end")
	evs := h.agentEvents()
	cp, ended := evs[len(evs)-1], evs[len(evs)-2]
	require.Equal(t, schemas.TypeSessionEnded, ended.Type)
	var d schemas.AuditCheckpoint
	require.NoError(t, json.Unmarshal(cp.Data, &d))
	require.Equal(t, schemas.CheckpointSessionEnd, d.Reason)
	require.Equal(t, ended.Seq, d.Seq)
	require.Equal(t, ended.Hash, d.Hash)
	require.Equal(t, h.gw.HostCertificate().SerialNumber.Text(16), d.CertSerial)

	out, err = execPsql(h.connString(alice, "alice", "postgres"), "-c", "select 2")
	require.NoError(t, err, out)
	require.Eventually(t, func() bool { return len(h.events(schemas.TypeSessionEnded)) == 2 }, 30*time.Second, 20*time.Millisecond)
	h.stopAgent()
	evs = h.agentEvents()
	require.Equal(t, schemas.TypeAuditCheckpoint, evs[len(evs)-1].Type, "the chain ends signed")

	ctx := h.ctx
	require.NoError(t, h.svc.Checkpoint(ctx, schemas.CheckpointShutdown))
	rep, err := h.svc.Audit().Verify(ctx, h.admin, wire.AuditVerify{})
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep.Problems)
	var agent *auditquery.SourceReport
	for i := range rep.Sources {
		if rep.Sources[i].Source == h.gw.AgentID() {
			agent = &rep.Sources[i]
		}
		require.Nil(t, rep.Sources[i].Uncovered, "%s is signed up to its end", rep.Sources[i].Source)
	}
	require.NotNil(t, agent)
	require.Equal(t, auditquery.HeadOK, agent.Head)
	require.Equal(t, agent.Last, agent.CoveredTo)
	require.Equal(t, agent.Checkpoints, agent.Verified)
	require.GreaterOrEqual(t, agent.Checkpoints, uint64(2))
}
