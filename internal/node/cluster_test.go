package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/natstest"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
	"github.com/tollgate-db/tollgate/internal/testio"
)

// TestMain removes the nats-server natstest built, if a test did.
func TestMain(m *testing.M) { natstest.Main(m) }

// TestJoinTellsAgentsTheNATSClustersURLs: control on a three-node NATS
// cluster (nats.url with the seed URLs, replicas 3) tells a joining agent
// every seed URL, so the agent reaches the cluster through any node.
func TestJoinTellsAgentsTheNATSClustersURLs(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := natstest.Start(t, natstest.Options{Nodes: 3})
	n := nodetest.StartIn(t, t.TempDir(), &testio.Buffer{}, func(cfg *config.Config) {
		cfg.NATS.URL, cfg.NATS.Replicas, cfg.NATS.ListenAddr = c.URL(), 3, "none"
	})
	tok, err := n.Env.Control.Tokens().Add(ctx, admin, wire.TokenAdd{Type: control.TokenTypeDB, TTL: time.Hour})
	require.NoError(t, err)
	joined, err := n.Env.Control.Agents().Join(ctx, wire.Join{Token: tok.Value, Hostname: "db1", PublicKeyPEM: publicKeyPEM(t)}, "192.0.2.7:5000")
	require.NoError(t, err)
	require.Equal(t, c.URL(), joined.NATSURL)
	require.Len(t, c.URLs(), 3)
}
