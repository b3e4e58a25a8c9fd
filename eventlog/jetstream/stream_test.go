package jetstream_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
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
