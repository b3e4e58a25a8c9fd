package control

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// barrierStream holds appends until n of them have arrived, so that n
// writers are certain to have read the same state before any appends.
type barrierStream struct {
	eventlog.Stream
	mu      sync.Mutex
	n       int
	arrived int
	release chan struct{}
}

func (b *barrierStream) arm(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n, b.arrived, b.release = n, 0, make(chan struct{})
}

func (b *barrierStream) Append(ctx context.Context, ev eventlog.Event, opts ...eventlog.AppendOption) (uint64, error) {
	b.mu.Lock()
	rel := b.release
	if rel != nil {
		b.arrived++
		if b.arrived == b.n {
			close(rel)
			b.release = nil
		}
	}
	b.mu.Unlock()
	if rel != nil {
		select {
		case <-rel:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return b.Stream.Append(ctx, ev, opts...)
}

func TestConcurrentRoleUpdateOneWins(t *testing.T) {
	f := newFixture(t)
	f.cancel()
	bs := &barrierStream{Stream: f.ctl}
	f.svcWithControl(t, bs)
	ctx := context.Background()
	role := schemas.Role{Name: "dev", Spec: schemas.RoleSpec{Allow: schemas.RoleConditions{DBUsers: []string{"a"}}}}
	_, err := f.svc.Roles().Create(ctx, f.admin, role)
	require.NoError(t, err)

	bs.arm(2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := role
			r.Spec.Allow.DBUsers = []string{string(rune('x' + i))}
			_, errs[i] = f.svc.Roles().Update(ctx, f.admin, r)
		}(i)
	}
	wg.Wait()
	wins, conflicts := 0, 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		require.Equal(t, CodeConflict, apiCode(t, err))
		require.Contains(t, err.Error(), "role dev changed concurrently; retry")
		conflicts++
	}
	require.Equal(t, 1, wins)
	require.Equal(t, 1, conflicts)
}

// TestConcurrentRegisterOfOneDatabaseBothSucceed: an agent's start and a
// reload may register the same database at the same moment; registering
// is idempotent, so the one that loses the race reads the state again and
// succeeds instead of failing with a conflict.
func TestConcurrentRegisterOfOneDatabaseBothSucceed(t *testing.T) {
	f := newFixture(t)
	f.cancel()
	bs := &barrierStream{Stream: f.ctl}
	f.svcWithControl(t, bs)
	ctx := context.Background()
	tok, err := f.svc.Tokens().Add(ctx, f.admin, wire.TokenAdd{Type: "db"})
	require.NoError(t, err)
	joined, err := f.svc.Agents().Join(ctx, wire.Join{Token: tok.Value, Hostname: "db1", PublicAddr: "10.0.0.7:5433", PublicKeyPEM: pubKey(t)}, "test")
	require.NoError(t, err)
	agent := Caller{Kind: CallerHost, Name: joined.AgentID}
	d := schemas.Database{Name: "d1", Protocol: "postgres", URI: "localhost:5432"}

	bs.arm(2) // both appends read the state before either is stored
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = f.svc.Databases().Register(ctx, agent, d)
		}(i)
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	f.svc.View(func(st *projections.State) {
		require.Equal(t, joined.AgentID, st.Databases["d1"].AgentID)
	})
}
