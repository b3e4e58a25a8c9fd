package control

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
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
