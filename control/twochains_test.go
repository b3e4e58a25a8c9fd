package control

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// Two controls on one log writing control's audit chain at once (each
// cert.issued is a chained audit event): every append goes onto the head
// its control chained from, or conflicts and is chained again onto the
// head read back, so the chain never forks — one event per chain
// sequence, each linking to the one before — and audit verify finds it
// intact, checkpoints of both controls included.
func TestTwoControlsWriteOneUnforkedAuditChain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b, _, aud := twoControls(t)
	admin := Caller{Kind: CallerUser, Name: AdminUser}
	const perWriter = 15
	var wg sync.WaitGroup
	for w := range 4 {
		svc := []*Service{a, b}[w%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWriter {
				_, err := svc.Certs().Sign(ctx, admin, wire.SignRequest{Format: "tls", Hosts: []string{"db.example"}, TTL: time.Hour})
				require.NoError(t, err)
			}
		}()
		if w == 1 {
			require.NoError(t, a.Checkpoint(ctx, schemas.CheckpointInterval))
		}
	}
	wg.Wait()
	require.NoError(t, a.Checkpoint(ctx, schemas.CheckpointShutdown))
	require.NoError(t, b.Checkpoint(ctx, schemas.CheckpointShutdown))

	var issued int
	var prevHash string
	var next uint64 = 1
	require.NoError(t, aud.Read(ctx, eventlog.Query{Subjects: []string{ChainFilter}}, func(r eventlog.Record) error {
		require.Equal(t, next, r.Event.Seq, "chain sequences follow each other: no fork")
		require.Equal(t, prevHash, r.Event.Prev, "each event links to the one stored before it")
		next, prevHash = r.Event.Seq+1, r.Event.Hash
		if r.Event.Type == schemas.TypeCertIssued {
			issued++
		}
		return nil
	}))
	require.GreaterOrEqual(t, issued, 4*perWriter, "every cert.issued is on record")
	rep, err := b.Audit().Verify(ctx, admin, wire.AuditVerify{})
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep.Problems)
}
