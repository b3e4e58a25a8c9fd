package auditpub

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/spool"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/embedded"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
	"github.com/tollgate-db/tollgate/schemas"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openJS(t *testing.T, cfg jetstream.Config) *jetstream.Log {
	t.Helper()
	if cfg.DataDir == "" && cfg.URL == "" {
		cfg.DataDir = t.TempDir()
	}
	l, err := jetstream.Open(ctxT(t), cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = l.Close(ctx)
	})
	return l
}

func auditEv(i int) eventlog.Event {
	return eventlog.Event{
		ID: fmt.Sprintf("ev-%06d", i), Type: "query", V: 1, Time: time.Unix(1700000000, int64(i)).UTC(),
		Source: "agent-1", Actor: "alice", Subject: eventlog.AuditSubject("db", "alice", "s1", "query"),
		Data: []byte(fmt.Sprintf(`{"session_id":"s1","n":%d,"kind":"simple","statement":"select %d"}`, i, i)),
	}
}

// checkStored requires ids 0..n-1 each stored exactly once, in order, with
// an unbroken hash chain.
func checkStored(t *testing.T, st eventlog.Stream, n int) {
	t.Helper()
	ctx := ctxT(t)
	seen := map[string]int{}
	var ids []string
	require.NoError(t, st.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error {
		seen[r.Event.ID]++
		ids = append(ids, r.Event.ID)
		return nil
	}))
	require.Len(t, ids, n, "every event stored exactly once")
	for i := range n {
		require.Equal(t, 1, seen[auditEv(i).ID], "event %d", i)
		require.Equal(t, auditEv(i).ID, ids[i], "stored in order")
	}
	rep, err := eventlog.Verify(ctx, st, eventlog.Query{})
	require.NoError(t, err)
	require.True(t, rep.OK(), "chain: %+v", rep.Problems)
	require.Equal(t, uint64(n), rep.Checked["agent-1"])
}

func TestKillAndRestartResendsExactlyOnce(t *testing.T) {
	t.Parallel()
	l := openJS(t, jetstream.Config{})
	dir := t.TempDir()
	sp, err := spool.Open(dir, spool.Options{})
	require.NoError(t, err)
	p, err := Open(l.Audit, sp, Options{MaxBatch: 7})
	require.NoError(t, err)
	for i := range 200 {
		require.NoError(t, p.TryPublishAsync([]eventlog.Event{auditEv(i)}))
	}
	// Die without draining: whatever was in flight may or may not be stored.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = p.Close(ctx)
	require.NoError(t, sp.Close())

	sp, err = spool.Open(dir, spool.Options{})
	require.NoError(t, err)
	defer sp.Close()
	p, err = Open(l.Audit, sp, Options{MaxBatch: 7})
	require.NoError(t, err)
	for i := 200; i < 250; i++ {
		require.NoError(t, p.PublishSync(ctxT(t), []eventlog.Event{auditEv(i)}))
	}
	require.NoError(t, p.Close(ctxT(t)))
	require.Equal(t, uint64(0), sp.Pending())
	checkStored(t, l.Audit, 250)
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestNATSOutageLosesNothing(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	store, addr := t.TempDir(), freePort(t)
	srv, err := embedded.Start(ctx, embedded.Config{StoreDir: store, Listen: addr})
	require.NoError(t, err)
	l := openJS(t, jetstream.Config{URL: "nats://" + addr})
	sp, err := spool.Open(t.TempDir(), spool.Options{})
	require.NoError(t, err)
	defer sp.Close()
	p, err := Open(l.Audit, sp, Options{AppendTimeout: 500 * time.Millisecond, RetryMax: 200 * time.Millisecond})
	require.NoError(t, err)
	for i := range 50 {
		require.NoError(t, p.PublishSync(ctx, []eventlog.Event{auditEv(i)}))
	}
	require.NoError(t, srv.Shutdown(ctx))
	for i := 50; i < 150; i++ {
		require.NoError(t, p.TryPublishAsync([]eventlog.Event{auditEv(i)}), "async events are spooled while NATS is down")
	}
	err = p.PublishSync(ctx, []eventlog.Event{auditEv(150)})
	require.Error(t, err, "strict publish fails while NATS is down")
	srv, err = embedded.Start(ctx, embedded.Config{StoreDir: store, Listen: addr})
	require.NoError(t, err)
	defer func() { _ = srv.Shutdown(context.Background()) }()
	require.Eventually(t, func() bool { return p.Pending() == 0 }, 45*time.Second, 20*time.Millisecond)
	require.NoError(t, p.Close(ctx))
	checkStored(t, l.Audit, 151)
}

func TestFullSpoolRefusesAndKeepsChain(t *testing.T) {
	t.Parallel()
	st := &flaky{Stream: memlog.New(eventlog.AuditStream), down: true}
	sp, err := spool.Open(t.TempDir(), spool.Options{SegmentBytes: 1024, MaxBytes: 4096})
	require.NoError(t, err)
	defer sp.Close()
	p, err := Open(st, sp, Options{RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond})
	require.NoError(t, err)
	n := 0
	for {
		err := p.TryPublishAsync([]eventlog.Event{auditEv(n)})
		if err != nil {
			require.True(t, errors.Is(err, ErrBacklog), err)
			require.True(t, errors.Is(err, spool.ErrFull), err)
			break
		}
		n++
	}
	require.Greater(t, n, 5)
	require.ErrorIs(t, p.Health(), ErrBacklog, "unhealthy while the spool is full")
	require.Equal(t, "spool_full", Reason(p.TryPublishAsync([]eventlog.Event{auditEv(n)})))
	st.mu.Lock()
	st.down = false
	st.mu.Unlock()
	require.Eventually(t, func() bool { return p.Pending() == 0 && p.Health() == nil }, 30*time.Second, 5*time.Millisecond,
		"healthy again once stored events free room, before any new event is offered")
	require.NoError(t, p.TryPublishAsync([]eventlog.Event{auditEv(n)}), "space is freed once stored")
	require.NoError(t, p.Close(ctxT(t)))
	checkStored(t, st, n+1)
}

// TestOversizeIsShrunkInvalidRefused: an event over the bound is shrunk
// to fit (cut, flagged, hashed) and chained in its place, never dropped;
// one of a type with nothing to cut, or with invalid data, is refused
// without a gap in the chain.
func TestOversizeIsShrunkInvalidRefused(t *testing.T) {
	t.Parallel()
	st := memlog.New(eventlog.AuditStream)
	sp, err := spool.Open(t.TempDir(), spool.Options{})
	require.NoError(t, err)
	defer sp.Close()
	p, err := Open(st, sp, Options{MaxEventSize: 1024})
	require.NoError(t, err)
	require.NoError(t, p.PublishSync(ctxT(t), []eventlog.Event{auditEv(0)}))
	big := auditEv(1)
	stmt := strings.Repeat("x", 2000)
	big.Data = []byte(`{"session_id":"s1","n":1,"kind":"simple","statement":"` + stmt + `"}`)
	require.NoError(t, p.PublishSync(ctxT(t), []eventlog.Event{big}))
	other := auditEv(97)
	other.Type = "cert.issued"
	other.Data = []byte(`{"kind":"` + stmt + `"}`)
	require.ErrorIs(t, p.PublishSync(ctxT(t), []eventlog.Event{other}), eventlog.ErrTooLarge)
	bad := auditEv(98)
	bad.Data = []byte(`{"x":`)
	require.Error(t, p.PublishSync(ctxT(t), []eventlog.Event{bad}))
	require.NoError(t, p.PublishSync(ctxT(t), []eventlog.Event{auditEv(2)}))
	require.NoError(t, p.Close(ctxT(t)))
	checkStored(t, st, 3)
	require.NoError(t, st.Read(ctxT(t), eventlog.Query{FromSeq: 2, ToSeq: 2}, func(r eventlog.Record) error {
		q, err := schemas.Decode(r.Event)
		require.NoError(t, err)
		require.True(t, q.(*schemas.Query).Truncated)
		require.Equal(t, fmt.Sprintf("%x", sha256.Sum256([]byte(stmt))), q.(*schemas.Query).SHA256)
		require.LessOrEqual(t, len(eventlog.AppendJSON(nil, &r.Event, true)), 1024)
		return nil
	}))
}

// TestFailingSpoolRefusesReportsAndRecovers: when the spool's disk fails
// writes (its next segment and the probe file are links to /dev/full, a
// real ENOSPC), TryPublishAsync refuses with ErrSpool and takes nothing,
// Health reports it, and once the disk works again Health clears by
// itself (its probe) and events are taken, the chain unbroken.
func TestFailingSpoolRefusesReportsAndRecovers(t *testing.T) {
	t.Parallel()
	st := memlog.New(eventlog.AuditStream)
	dir := t.TempDir()
	sp, err := spool.Open(dir, spool.Options{SegmentBytes: 1}) // a segment per append
	require.NoError(t, err)
	defer sp.Close()
	p, err := Open(st, sp, Options{})
	require.NoError(t, err)
	require.NoError(t, p.TryPublishAsync([]eventlog.Event{auditEv(0)}))
	seg := filepath.Join(dir, fmt.Sprintf("%020d.seg", sp.Next()))
	for _, f := range []string{seg, filepath.Join(dir, "probe")} {
		require.NoError(t, os.Symlink("/dev/full", f))
	}
	err = p.TryPublishAsync([]eventlog.Event{auditEv(1)})
	require.ErrorIs(t, err, ErrSpool)
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.Equal(t, "spool_failed", Reason(err))
	require.ErrorIs(t, p.Health(), ErrSpool)

	require.NoError(t, os.Remove(seg)) // the disk works again
	require.Eventually(t, func() bool { return p.Health() == nil }, 30*time.Second, 20*time.Millisecond,
		"the probe clears the condition with no event offered")
	require.NoError(t, p.TryPublishAsync([]eventlog.Event{auditEv(1)}))
	require.NoError(t, p.Close(ctxT(t)))
	checkStored(t, st, 2)
}
