package node_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/join"
	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/node"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
)

// TestRemoteAgentJoins: a node whose config names a remote control
// (tollgate.proxy_server) runs no control: it joins over HTTPS with the
// token, checked against the CA pin, stores its identity, and then needs
// the NATS URL the join answered. A control without a NATS listener for
// other hosts (nats.listen_addr: none) answers "in-process", which is
// refused with a clear error.
func TestRemoteAgentJoins(t *testing.T) {
	t.Parallel()
	n := nodetest.StartConfig(t, nil, func(c *config.Config) { c.NATS.ListenAddr = "none" })
	ctx := context.Background()
	admin := control.Caller{Kind: control.CallerUser, Name: control.AdminUser}
	st, err := n.Env.Control.Status(admin)
	require.NoError(t, err)
	tok, err := n.Env.Control.TokensAdd(ctx, admin, wire.TokenAdd{Type: control.TokenTypeDB})
	require.NoError(t, err)
	dir := t.TempDir()

	bad := fmt.Sprintf("tollgate:\n  auth_token: %s\n  proxy_server: %s\n  ca_pin: sha256:%064d\n  data_dir: %s\ndb_service:\n  listen_addr: 127.0.0.1:0\n",
		tok.Value, n.Addr, 0, dir)
	cfg, err := config.Parse([]byte(bad))
	require.NoError(t, err)
	require.False(t, cfg.ControlEnabled())
	err = node.Run(ctx, cfg, zerolog.Nop(), node.Options{Agent: node.AgentOptions{MetricsAddr: "-"}})
	require.ErrorContains(t, err, "pin")

	good := fmt.Sprintf("tollgate:\n  auth_token: %s\n  proxy_server: %s\n  ca_pin: %s\n  data_dir: %s\ndb_service:\n  listen_addr: 127.0.0.1:0\n",
		tok.Value, n.Addr, st.CAPin, dir)
	cfg, err = config.Parse([]byte(good))
	require.NoError(t, err)
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err = node.Run(rctx, cfg, zerolog.Nop(), node.Options{Agent: node.AgentOptions{Hostname: "remote1", MetricsAddr: "-"}})
	require.ErrorContains(t, err, "does not expose NATS")
	id, err := join.Load(dir)
	require.NoError(t, err, "the identity is stored: the next start needs no token")
	require.FileExists(t, filepath.Join(join.Dir(dir), "host.key"))
	require.Contains(t, id.AgentID, "remote1")
}
