package control

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestChainResumesAfterRestart runs control twice on one real embedded
// JetStream store with an agent's audit events in between: the second
// control finds its chain head by the last message on ChainFilter, and the
// whole audit stream verifies.
func TestChainResumesAfterRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	admin := Caller{Kind: CallerUser, Name: AdminUser}

	runOnce := func(round int) {
		lg, err := jetstream.Open(ctx, jetstream.Config{DataDir: dir})
		require.NoError(t, err)
		defer func() { require.NoError(t, lg.Close(ctx)) }()
		sctx, stop := context.WithCancel(ctx)
		defer stop()
		svc, err := New(Config{Control: lg.Control, Audit: lg.Audit, Validator: v, DataDir: dir, ClusterName: "chain",
			Logger: zerolog.Nop(), FailureDelay: time.Millisecond})
		require.NoError(t, err)
		require.NoError(t, svc.Start(sctx))
		// An agent's chained events interleave with control's.
		agent := eventlog.NewBuilder("agent-1")
		ev, err := agent.Build(schemas.TypeSessionCancel, 1, "alice", eventlog.AuditSubject("roach", "alice", "s1", schemas.TypeSessionCancel),
			schemas.SessionCancel{SessionID: "s1", ClientAddr: "127.0.0.1:5000"})
		require.NoError(t, err)
		require.NoError(t, eventlog.NewChainer(uint64(round), lastHash(t, ctx, lg.Audit, "agent-1")).Next(&ev))
		_, err = lg.Audit.Append(ctx, ev)
		require.NoError(t, err)
		for range 2 {
			_, err = svc.Certs().Sign(ctx, admin, wire.SignRequest{Format: "db", Hosts: []string{"pg"}, TTL: time.Hour})
			require.NoError(t, err)
		}
		head, err := lg.Audit.LastSubjectSeq(ctx, ChainFilter)
		require.NoError(t, err)
		require.NotZero(t, head, "the wildcard last-by-subject lookup finds control's last event")
	}
	runOnce(0)
	runOnce(1)

	lg, err := jetstream.Open(ctx, jetstream.Config{DataDir: dir})
	require.NoError(t, err)
	defer func() { require.NoError(t, lg.Close(ctx)) }()
	rep, err := eventlog.Verify(ctx, lg.Audit, eventlog.Query{})
	require.NoError(t, err)
	require.True(t, rep.OK(), "problems: %+v", rep.Problems)
	require.Equal(t, uint64(4), rep.Checked[Source], "control's chain runs on across the restart")
	require.Equal(t, uint64(2), rep.Checked["agent-1"])
}

func lastHash(t *testing.T, ctx context.Context, s eventlog.Stream, source string) string {
	t.Helper()
	var h string
	require.NoError(t, s.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error {
		if r.Event.Source == source {
			h = r.Event.Hash
		}
		return nil
	}))
	return h
}
