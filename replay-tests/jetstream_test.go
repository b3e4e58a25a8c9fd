package replaytests

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
)

func init() {
	extraBackends = append(extraBackends, backend{name: "jetstream", open: func(t testing.TB) eventlog.Stream {
		return openJetStream(t).Control
	}})
}

// openJetStream starts a real embedded NATS JetStream for one test.
func openJetStream(t testing.TB) *jetstream.Log {
	t.Helper()
	return openJetStreamWith(t, jetstream.Config{})
}

// openJetStreamWith is openJetStream with cfg (its DataDir set here).
func openJetStreamWith(t testing.TB, cfg jetstream.Config) *jetstream.Log {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg.DataDir = t.TempDir()
	l, err := jetstream.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, l.Close(ctx))
	})
	return l
}
