package auditpub

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
)

// TestStrictOverJetStreamVerifies runs concurrent strict publishers (group
// commit over the encoded append path) against a real embedded JetStream
// and verifies the stored chain.
func TestStrictOverJetStreamVerifies(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := jetstream.Open(ctx, jetstream.Config{DataDir: t.TempDir()})
	require.NoError(t, err)
	defer func() { require.NoError(t, l.Close(ctx)) }()
	p := New(l.Audit, eventlog.NewChainer(0, ""), Options{})
	b := eventlog.NewBuilder("agent1")
	var wg sync.WaitGroup
	for s := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				ev, err := b.Build("query", 1, "alice", eventlog.AuditSubject("db", "alice", fmt.Sprintf("s%d", s), "query"),
					map[string]any{"statement": fmt.Sprintf("select %d <&> \"x\"\n", i), "n": i})
				require.NoError(t, err)
				require.NoError(t, p.PublishSync(ctx, []eventlog.Event{ev}))
			}
		}()
	}
	wg.Wait()
	last, err := b.Build("session.ended", 1, "alice", eventlog.AuditSubject("db", "alice", "s0", "session.ended"), map[string]any{})
	require.NoError(t, err)
	require.NoError(t, p.TryPublishAsync([]eventlog.Event{last}))
	require.NoError(t, p.Close(ctx))
	rep, err := eventlog.Verify(ctx, l.Audit, eventlog.Query{})
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep.Problems)
	require.Equal(t, uint64(321), rep.Checked["agent1"])
	n, err := l.Audit.LastSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(321), n)
}
