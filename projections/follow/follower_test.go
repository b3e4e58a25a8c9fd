package follow_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/follow"
	"github.com/tollgate-db/tollgate/schemas"
)

const wait = 10 * time.Second

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// appendRole appends a role event (role.created, role.updated) and returns
// its sequence.
func appendRole(t *testing.T, st eventlog.Appender, typ, name string) uint64 {
	t.Helper()
	ev, err := eventlog.NewBuilder("control").Build(typ, 1, "admin", eventlog.ControlSubject(eventlog.KindRole, name), schemas.Role{Name: name})
	require.NoError(t, err)
	seq, err := st.Append(context.Background(), ev)
	require.NoError(t, err)
	return seq
}

// start runs f until the test ends and waits for Run to return then.
func start(t *testing.T, f *follow.Follower) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return cancel
}

func roles(f *follow.Follower) []string {
	var out []string
	f.View(func(st *projections.State) {
		for name := range st.Roles {
			out = append(out, name)
		}
	})
	return out
}

func requireReady(t *testing.T, f *follow.Follower) {
	t.Helper()
	select {
	case <-f.Ready():
	case <-time.After(wait):
		t.Fatal("the follower did not become ready")
	}
}

func isReady(f *follow.Follower) bool {
	select {
	case <-f.Ready():
		return true
	default:
		return false
	}
}

func TestFollowAndWaitSeq(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	st := memlog.New(eventlog.ControlStream)
	appendRole(t, st, schemas.TypeRoleCreated, "a")
	appendRole(t, st, schemas.TypeRoleCreated, "b")
	f := follow.New(st, follow.Options{})
	start(t, f)
	require.NoError(t, f.WaitSeq(ctx, 2))
	require.ElementsMatch(t, []string{"a", "b"}, roles(f))
	requireReady(t, f)

	// Read your writes: once WaitSeq returns, the write is in the view.
	seq := appendRole(t, st, schemas.TypeRoleCreated, "c")
	require.NoError(t, f.WaitSeq(ctx, seq))
	require.ElementsMatch(t, []string{"a", "b", "c"}, roles(f))
	appendRole(t, st, schemas.TypeRoleCreated, "d")
	require.NoError(t, f.Sync(ctx))
	require.Len(t, roles(f), 4)
}

func TestReadyEmpty(t *testing.T) {
	t.Parallel()
	f := follow.New(memlog.New(eventlog.ControlStream), follow.Options{})
	require.False(t, isReady(f), "not before Run")
	start(t, f)
	requireReady(t, f)
}

// TestReadyAtLastSeqAtStart: Ready waits for the records stored when
// following began, not for the first one.
func TestReadyAtLastSeqAtStart(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	st := memlog.New(eventlog.ControlStream)
	for _, n := range []string{"a", "b", "c"} {
		appendRole(t, st, schemas.TypeRoleCreated, n)
	}
	var mu sync.Mutex
	readyAt := map[uint64]bool{}
	var f *follow.Follower
	f = follow.New(st, follow.Options{OnApply: func(rec eventlog.Record) {
		mu.Lock()
		defer mu.Unlock()
		readyAt[rec.StreamSeq] = isReady(f)
	}})
	start(t, f)
	requireReady(t, f)
	seq := appendRole(t, st, schemas.TypeRoleCreated, "d")
	require.NoError(t, f.WaitSeq(ctx, seq))
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(readyAt) == 4 }, wait, time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, map[uint64]bool{1: false, 2: false, 3: false, 4: true}, readyAt)
}

// TestBadEventSkipped: an event that cannot be applied is skipped, the
// sequence moves (waiters are not stuck) and the hook still sees it.
func TestBadEventSkipped(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	st := memlog.New(eventlog.ControlStream)
	bad := appendRole(t, st, schemas.TypeRoleUpdated, "ghost") // no such role
	var mu sync.Mutex
	var hooked []uint64
	f := follow.New(st, follow.Options{OnApply: func(rec eventlog.Record) {
		mu.Lock()
		defer mu.Unlock()
		hooked = append(hooked, rec.StreamSeq)
	}})
	start(t, f)
	require.NoError(t, f.WaitSeq(ctx, bad))
	require.Empty(t, roles(f))
	good := appendRole(t, st, schemas.TypeRoleCreated, "a")
	require.NoError(t, f.WaitSeq(ctx, good))
	require.Equal(t, []string{"a"}, roles(f))
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(hooked) == 2 }, wait, time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []uint64{bad, good}, hooked)
}

// TestHookSeesEachRecordOnce: the hook is called after each record is in
// the state, in order, once, and may read the state.
func TestHookSeesEachRecordOnce(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	st := memlog.New(eventlog.ControlStream)
	type call struct {
		seq, stateSeq uint64
		typ           string
	}
	var mu sync.Mutex
	var calls []call
	var f *follow.Follower
	f = follow.New(st, follow.Options{OnApply: func(rec eventlog.Record) {
		var applied uint64
		f.View(func(s *projections.State) { applied = s.LastSeq })
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, call{rec.StreamSeq, applied, rec.Event.Type})
	}})
	appendRole(t, st, schemas.TypeRoleCreated, "a")
	start(t, f)
	appendRole(t, st, schemas.TypeRoleUpdated, "a")
	last := appendRole(t, st, schemas.TypeRoleCreated, "b")
	require.NoError(t, f.WaitSeq(ctx, last))
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(calls) == 3 }, wait, time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []call{{1, 1, schemas.TypeRoleCreated}, {2, 2, schemas.TypeRoleUpdated}, {3, 3, schemas.TypeRoleCreated}}, calls)
}

var errBroken = errors.New("stream broken")

// breaking is a memlog stream whose first fails Follows deliver records up
// to failAfter and then fail with errBroken. It notes each Follow's FromSeq.
type breaking struct {
	*memlog.Stream
	mu        sync.Mutex
	fails     int
	failAfter uint64
	froms     []uint64
	followed  chan struct{} // a Follow began (buffered)
}

func newBreaking(fails int, failAfter uint64) *breaking {
	return &breaking{Stream: memlog.New(eventlog.ControlStream), fails: fails, failAfter: failAfter, followed: make(chan struct{}, 100)}
}

func (b *breaking) Follow(ctx context.Context, q eventlog.Query, fn func(eventlog.Record) error) error {
	b.mu.Lock()
	b.froms = append(b.froms, q.FromSeq)
	fail := b.fails > 0
	if fail {
		b.fails--
	}
	b.mu.Unlock()
	b.followed <- struct{}{}
	if !fail {
		return b.Stream.Follow(ctx, q, fn)
	}
	if q.FromSeq <= b.failAfter {
		if err := b.Stream.Read(ctx, eventlog.Query{FromSeq: q.FromSeq, ToSeq: b.failAfter}, fn); err != nil {
			return err
		}
	}
	return errBroken
}

func (b *breaking) fromSeqs() []uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]uint64(nil), b.froms...)
}

// TestStopForGood: without Retry a Follow error stops the follower; what
// was applied stays readable, WaitSeq past it fails with the error.
func TestStopForGood(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	st := newBreaking(1, 2)
	for _, n := range []string{"a", "b", "c"} {
		appendRole(t, st, schemas.TypeRoleCreated, n)
	}
	f := follow.New(st, follow.Options{})
	start(t, f)
	require.NoError(t, f.WaitSeq(ctx, 2))
	err := f.WaitSeq(ctx, 3)
	require.ErrorIs(t, err, errBroken)
	require.ErrorContains(t, err, "follow control stream")
	require.ElementsMatch(t, []string{"a", "b"}, roles(f))
	require.Equal(t, []uint64{1}, st.fromSeqs(), "followed once, not again")
}

// TestRetryFromLastApplied: with Retry a Follow error is outlasted: the
// next Follow starts after the last applied record, and every record is
// applied once.
func TestRetryFromLastApplied(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	st := newBreaking(2, 2)
	for _, n := range []string{"a", "b", "c", "d"} {
		appendRole(t, st, schemas.TypeRoleCreated, n)
	}
	var mu sync.Mutex
	var hooked []uint64
	f := follow.New(st, follow.Options{Retry: true, OnApply: func(rec eventlog.Record) {
		mu.Lock()
		defer mu.Unlock()
		hooked = append(hooked, rec.StreamSeq)
	}})
	start(t, f)
	require.NoError(t, f.WaitSeq(ctx, 4))
	require.ElementsMatch(t, []string{"a", "b", "c", "d"}, roles(f))
	requireReady(t, f)
	require.Equal(t, []uint64{1, 3, 3}, st.fromSeqs(), "resumed after the last applied record")
	seq := appendRole(t, st, schemas.TypeRoleCreated, "e")
	require.NoError(t, f.WaitSeq(ctx, seq), "following live again")
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(hooked) == 5 }, wait, time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []uint64{1, 2, 3, 4, 5}, hooked)
}

// TestRetryWaitSeqWaits: while a retrying follower cannot follow, WaitSeq
// waits (until its ctx ends) rather than failing with the Follow error.
func TestRetryWaitSeqWaits(t *testing.T) {
	t.Parallel()
	st := newBreaking(1000, 0)
	f := follow.New(st, follow.Options{Retry: true})
	start(t, f)
	ctx, cancel := context.WithCancel(ctxT(t))
	go func() {
		<-st.followed
		<-st.followed // a retry happened
		cancel()
	}()
	err := f.WaitSeq(ctx, 1)
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, errBroken)
}

// TestWaitSeqAfterRun: once Run ended, WaitSeq for what is applied
// succeeds and for anything later fails with eventlog.ErrClosed.
func TestWaitSeqAfterRun(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	st := memlog.New(eventlog.ControlStream)
	appendRole(t, st, schemas.TypeRoleCreated, "a")
	f := follow.New(st, follow.Options{Retry: true})
	stop := start(t, f)
	require.NoError(t, f.WaitSeq(ctx, 1))
	waited := make(chan error, 1)
	go func() { waited <- f.WaitSeq(ctx, 2) }()
	stop()
	select {
	case err := <-waited:
		require.ErrorIs(t, err, eventlog.ErrClosed)
	case <-time.After(wait):
		t.Fatal("WaitSeq did not return when Run ended")
	}
	require.NoError(t, f.WaitSeq(ctx, 1))
	require.ErrorIs(t, f.WaitSeq(ctx, 2), eventlog.ErrClosed)
}
