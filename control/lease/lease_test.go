package lease_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/lease"
	"github.com/tollgate-db/tollgate/eventlog/embedded"
)

const ttl = time.Second

func server(t *testing.T) *embedded.Server {
	t.Helper()
	srv, err := embedded.Start(context.Background(), embedded.Config{StoreDir: t.TempDir(), Logger: zerolog.Nop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return srv
}

// holder is one process: its own connection and leases.
type holder struct {
	nc *nats.Conn
	js jetstream.JetStream
	l  *lease.Leases
}

func newHolder(t *testing.T, srv *embedded.Server, name string) *holder {
	t.Helper()
	nc, err := srv.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	l, err := lease.Open(context.Background(), js, lease.Config{TTL: ttl, Holder: name})
	require.NoError(t, err)
	return &holder{nc: nc, js: js, l: l}
}

// work records who runs and how many run at once.
type work struct {
	mu      sync.Mutex
	running map[string]bool
	most    int
	starts  map[string]int
}

func newWork() *work { return &work{running: map[string]bool{}, starts: map[string]int{}} }

func (w *work) fn(who string) func(context.Context) {
	return func(ctx context.Context) {
		w.mu.Lock()
		w.running[who] = true
		w.starts[who]++
		w.most = max(w.most, len(w.running))
		w.mu.Unlock()
		<-ctx.Done()
		w.mu.Lock()
		delete(w.running, who)
		w.mu.Unlock()
	}
}

// only reports whether who, and nobody else, runs.
func (w *work) only(who string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.running) == 1 && w.running[who]
}

func (w *work) none() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.running) == 0
}

func (w *work) atMostOne(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	require.Equal(t, 1, w.most, "two holders ran at once")
}

func (w *work) runner() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	for who := range w.running {
		return who
	}
	return ""
}

func run(t *testing.T, h *holder, w *work, who string) (cancel func(), done chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done = make(chan error, 1)
	go func() { done <- h.l.Run(ctx, "checkpoints", w.fn(who)) }()
	return cancel, done
}

func holderOf(t *testing.T, js jetstream.JetStream) string {
	kv, err := js.KeyValue(context.Background(), lease.DefaultBucket)
	require.NoError(t, err)
	e, err := kv.Get(context.Background(), "checkpoints")
	if err != nil {
		return ""
	}
	return string(e.Value())
}

// Exactly one of two holders runs, through many renewals; when it stops
// (releasing), the other takes over.
func TestOneHolderRunsAndHandsOverOnStop(t *testing.T) {
	t.Parallel()
	srv := server(t)
	a, b := newHolder(t, srv, "a"), newHolder(t, srv, "b")
	w := newWork()
	stopA, doneA := run(t, a, w, "a")
	require.Eventually(t, func() bool { return w.only("a") }, 10*time.Second, 10*time.Millisecond)
	stopB, doneB := run(t, b, w, "b")
	// Through five TTLs of renewals a keeps the lease and b never runs.
	deadline := time.Now().Add(5 * ttl)
	for time.Now().Before(deadline) {
		require.True(t, w.only("a"), "a holds the lease, b waits")
		require.Equal(t, "a", holderOf(t, b.js))
		time.Sleep(50 * time.Millisecond)
	}
	stopA()
	require.NoError(t, <-doneA)
	require.Eventually(t, func() bool { return w.only("b") }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, "b", holderOf(t, a.js))
	stopB()
	require.NoError(t, <-doneB)
	require.True(t, w.none())
	w.atMostOne(t)
}

// A holder that stops renewing without releasing (its connection gone, as
// in a crash) loses the lease: its fn is cancelled, and the other holder
// takes over once the entry expires.
func TestCrashedHolderIsTakenOver(t *testing.T) {
	t.Parallel()
	srv := server(t)
	a, b := newHolder(t, srv, "a"), newHolder(t, srv, "b")
	w := newWork()
	_, doneA := run(t, a, w, "a")
	require.Eventually(t, func() bool { return w.only("a") }, 10*time.Second, 10*time.Millisecond)
	_, _ = run(t, b, w, "b")
	a.nc.Close() // no release, no renewal
	require.Eventually(t, func() bool { return w.only("b") }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, "b", holderOf(t, b.js))
	w.atMostOne(t)
	w.mu.Lock()
	require.Equal(t, 1, w.starts["a"])
	w.mu.Unlock()
	select {
	case err := <-doneA:
		t.Fatalf("a's Run ended (%v); it should keep trying to take the lease", err)
	default:
	}
}

// A renewal refused (the entry rewritten by another process) cancels fn.
func TestRefusedRenewalCancelsFn(t *testing.T) {
	t.Parallel()
	srv := server(t)
	a := newHolder(t, srv, "a")
	w := newWork()
	run(t, a, w, "a")
	require.Eventually(t, func() bool { return w.only("a") }, 10*time.Second, 10*time.Millisecond)
	kv, err := a.js.KeyValue(context.Background(), lease.DefaultBucket)
	require.NoError(t, err)
	_, err = kv.Put(context.Background(), "checkpoints", []byte("intruder"))
	require.NoError(t, err)
	require.Eventually(t, w.none, 10*time.Second, 10*time.Millisecond)
	// The intruder's entry expires and a takes the lease again.
	require.Eventually(t, func() bool { return w.only("a") }, 10*time.Second, 10*time.Millisecond)
	w.mu.Lock()
	require.Equal(t, 2, w.starts["a"])
	w.mu.Unlock()
}

// fn returning on its own ends Run and releases the lease at once: the
// key can be created again with no wait for the TTL.
func TestFnReturningReleases(t *testing.T) {
	t.Parallel()
	srv := server(t)
	a := newHolder(t, srv, "a")
	ran := false
	require.NoError(t, a.l.Run(context.Background(), "once", func(context.Context) { ran = true }))
	require.True(t, ran)
	kv, err := a.js.KeyValue(context.Background(), lease.DefaultBucket)
	require.NoError(t, err)
	_, err = kv.Create(context.Background(), "once", []byte("next"))
	require.NoError(t, err, "released, not left to expire")
}

func TestBadNameAndTTL(t *testing.T) {
	t.Parallel()
	srv := server(t)
	a := newHolder(t, srv, "a")
	for _, n := range []string{"", "a b", "a.>", ".a", "a..b", "a*"} {
		require.ErrorIs(t, a.l.Run(context.Background(), n, func(context.Context) {}), lease.ErrBadName, n)
	}
	_, err := lease.Open(context.Background(), a.js, lease.Config{Bucket: "OTHER", TTL: time.Millisecond})
	require.ErrorContains(t, err, "at least 1s")
}
