package node_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog/embedded"
	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
	"github.com/tollgate-db/tollgate/schemas"
)

const checkpointLeaseTaken = `"lease":"control-checkpoints","holder"`

// TestTwoControlsOnOneNATS: two controls with control.keystore nats on one
// NATS server, each with its own data dir: both serve, a write on one is
// read on the other, the CAs the first made sign on the second (their keys
// are in the shared bucket), the checkpoints run on one of them at a time
// and move to the other when it stops.
func TestTwoControlsOnOneNATS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, err := embedded.Start(ctx, embedded.Config{StoreDir: t.TempDir(), Listen: "127.0.0.1:0", Logger: zerolog.Nop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	seal := filepath.Join(t.TempDir(), "seal.key")
	shared := func(c *config.Config) {
		c.NATS.URL, c.NATS.ListenAddr = srv.ClientURL(), "none"
		c.Control.Keystore, c.Control.SealKeyFile = config.KeystoreNATS, seal
	}
	logA, logB := &syncLog{}, &syncLog{}
	a := nodetest.StartIn(t, t.TempDir(), logA, shared)
	require.Eventually(t, func() bool { return logA.count("lease taken") == 1 }, 20*time.Second, 20*time.Millisecond)
	b := nodetest.StartIn(t, t.TempDir(), logB, shared)
	require.Equal(t, caPin(t, a), caPin(t, b), "one cluster, one set of CAs")

	_, err = a.Env.Control.Users().Add(ctx, admin, schemas.User{Name: "alice", Roles: []string{"auditor"}})
	require.NoError(t, err)
	require.NoError(t, b.Env.Control.Sync(ctx))
	u, err := b.Env.Control.Users().Get(admin, "alice")
	require.NoError(t, err, "a write on one control is read on the other")
	require.Equal(t, []string{"auditor"}, u.Roles)
	signs(t, a)
	signs(t, b)

	require.Equal(t, 1, logA.count(checkpointLeaseTaken), "a took the checkpoints' lease")
	require.Zero(t, logB.count(checkpointLeaseTaken), "b waits while a holds it")
	a.Stop()
	require.Equal(t, 1, logA.count("lease released"), "a released the lease as it stopped")
	require.Eventually(t, func() bool { return logB.count(checkpointLeaseTaken) == 1 }, 30*time.Second, 50*time.Millisecond,
		"b takes the checkpoints over")
	signs(t, b)
}
