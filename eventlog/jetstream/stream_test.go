package jetstream_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/embedded"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/eventlog/logtest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// openLog starts an embedded server for one test.
func openLog(t *testing.T, cfg jetstream.Config) *jetstream.Log {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	l, err := jetstream.Open(ctxT(t), cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, l.Close(ctx))
	})
	return l
}

func TestConformance(t *testing.T) {
	t.Parallel()
	logtest.Run(t, func(t *testing.T, name string) eventlog.Stream {
		l := openLog(t, jetstream.Config{})
		if name == eventlog.AuditStream {
			return l.Audit
		}
		return l.Control
	})
}

func TestProvisionUpdatesWithoutDataLoss(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	dir := t.TempDir()
	l := openLog(t, jetstream.Config{DataDir: dir})
	b := eventlog.NewBuilder("control")
	for i := range 3 {
		ev, err := b.Build("role.created", 1, "admin", eventlog.ControlSubject(eventlog.KindRole, "r"), map[string]int{"i": i})
		require.NoError(t, err)
		_, err = l.Control.Append(ctx, ev)
		require.NoError(t, err)
	}
	cfg := jetstream.Config{AuditRetention: 30 * 24 * time.Hour, MaxEventSize: 128 * 1024, DuplicateWindow: time.Minute}
	require.NoError(t, jetstream.Provision(ctx, l.JS, cfg))
	require.NoError(t, jetstream.Provision(ctx, l.JS, cfg), "idempotent")
	info, err := l.JS.Stream(ctx, eventlog.AuditStream)
	require.NoError(t, err)
	ai, err := info.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, 30*24*time.Hour, ai.Config.MaxAge)
	require.Equal(t, int32(128*1024+jetstream.HeaderRoom), ai.Config.MaxMsgSize)
	require.Equal(t, time.Minute, ai.Config.Duplicates)
	cs, err := l.JS.Stream(ctx, eventlog.ControlStream)
	require.NoError(t, err)
	ci, err := cs.Info(ctx)
	require.NoError(t, err)
	require.Zero(t, ci.Config.MaxAge, "control is kept forever")
	require.Equal(t, uint64(3), ci.State.Msgs)
	require.Equal(t, []string{"tollgate.control.>"}, ci.Config.Subjects)
}

// TestProvisionDeniesDeleteAndPurge: both streams refuse a message delete
// and a purge through the JetStream API, and a stream created before the
// flags were set (here: by hand, with them off) gets them from the next
// Provision, its messages kept.
func TestProvisionDeniesDeleteAndPurge(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	l := openLog(t, jetstream.Config{})
	b := eventlog.NewBuilder("control")
	ev, err := b.Build("role.created", 1, "admin", eventlog.ControlSubject(eventlog.KindRole, "r"), map[string]int{"i": 1})
	require.NoError(t, err)
	seq, err := l.Control.Append(ctx, ev)
	require.NoError(t, err)
	for _, name := range []string{eventlog.ControlStream, eventlog.AuditStream} {
		st, err := l.JS.Stream(ctx, name)
		require.NoError(t, err)
		require.True(t, st.CachedInfo().Config.DenyDelete, name)
		require.True(t, st.CachedInfo().Config.DenyPurge, name)
		require.Error(t, st.Purge(ctx), name)
	}
	cs, err := l.JS.Stream(ctx, eventlog.ControlStream)
	require.NoError(t, err)
	require.Error(t, cs.DeleteMsg(ctx, seq))
	require.Error(t, cs.SecureDeleteMsg(ctx, seq))

	// Streams from before: the same settings with the deny flags off, on
	// a server of their own.
	ns, err := embedded.Start(ctx, embedded.Config{StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ns.Shutdown(context.Background()) })
	nc, err := ns.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := natsjs.New(nc)
	require.NoError(t, err)
	oldControl, oldAudit := jetstream.Config{}.StreamConfigs()
	for _, sc := range []*natsjs.StreamConfig{&oldControl, &oldAudit} {
		sc.DenyDelete, sc.DenyPurge = false, false
		_, err := js.CreateStream(ctx, *sc)
		require.NoError(t, err)
	}
	for i := range 3 {
		_, err := js.Publish(ctx, eventlog.AuditSubject("", "", "", "query"), []byte(fmt.Sprintf(`{"i":%d}`, i)))
		require.NoError(t, err)
	}
	st, err := js.Stream(ctx, eventlog.AuditStream)
	require.NoError(t, err)
	require.NoError(t, st.DeleteMsg(ctx, 1), "the old stream allowed deletes")
	require.NoError(t, jetstream.Provision(ctx, js, jetstream.Config{}))
	for _, name := range []string{eventlog.ControlStream, eventlog.AuditStream} {
		st, err := js.Stream(ctx, name)
		require.NoError(t, err)
		info, err := st.Info(ctx)
		require.NoError(t, err)
		require.True(t, info.Config.DenyDelete, name)
		require.True(t, info.Config.DenyPurge, name)
	}
	info, err := st.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), info.State.Msgs, "the update keeps the messages")
	require.Error(t, st.DeleteMsg(ctx, 2), "and now refuses deletes")

	// JetStream never turns the flags off again: an update asking for it
	// is refused, which is what Provision reports when it cannot apply
	// its config.
	_, err = js.UpdateStream(ctx, oldAudit)
	require.ErrorContains(t, err, "deny")
}

func TestInfo(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	l := openLog(t, jetstream.Config{AuditRetention: 48 * time.Hour})
	st := l.Audit
	info, err := st.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, eventlog.StreamInfo{MaxAge: 48 * time.Hour, DenyDelete: true, DenyPurge: true}, info)
	evs := chainedEvents(t, "agent-1", 2)
	_, err = l.Audit.AppendBatch(ctx, evs)
	require.NoError(t, err)
	info, err = st.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(1), info.FirstSeq)
	require.Equal(t, uint64(2), info.LastSeq)
	require.False(t, info.FirstTime.IsZero())
}
