package node_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/node"
	"github.com/tollgate-db/tollgate/schemas"
)

// runNode runs cfg until the test ends and returns its environment once
// it is ready.
func runNode(t *testing.T, cfg config.Config, opts node.Options) *node.Env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *node.Env, 1)
	done := make(chan error, 1)
	opts.Ready = func(env *node.Env) { ready <- env }
	go func() { done <- node.Run(ctx, cfg, zerolog.Nop(), opts) }()
	select {
	case env := <-ready:
		t.Cleanup(func() {
			cancel()
			require.NoError(t, <-done)
		})
		return env
	case err := <-done:
		cancel()
		t.Fatalf("node did not start: %v", err)
	case <-time.After(90 * time.Second):
		cancel()
		t.Fatal("node did not start within 90s")
	}
	return nil
}

// TestRemoteAgentOverNATSListener: control listens for NATS over TLS
// (nats.listen_addr); an agent-only node joins over HTTPS, gets the NATS
// URL and host CA in the join, connects with its host cert, binds to the
// streams control provisioned, follows the control stream and publishes
// its audit events, which control reads.
func TestRemoteAgentOverNATSListener(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.DataDir, cfg.ClusterName = t.TempDir(), "test-cluster"
	cfg.Control.ListenAddr, cfg.NATS.ListenAddr, cfg.Control.MetricsAddr = "127.0.0.1:0", "127.0.0.1:0", "none"
	ctl := runNode(t, cfg, node.Options{})
	ctx := context.Background()
	admin := control.Caller{Kind: control.CallerUser, Name: control.AdminUser}
	st, err := ctl.Control.Cluster().Status(admin)
	require.NoError(t, err)
	tok, err := ctl.Control.Tokens().Add(ctx, admin, wire.TokenAdd{Type: control.TokenTypeDB})
	require.NoError(t, err)
	require.NotNil(t, ctl.Log.Server)
	require.Contains(t, ctl.Log.Server.ClientURL(), "tls://127.0.0.1:")

	yaml := fmt.Sprintf("tollgate:\n  auth_token: %s\n  proxy_server: %s\n  ca_pin: %s\n  data_dir: %s\ndb_service:\n  listen_addr: 127.0.0.1:0\n",
		tok.Value, ctl.ControlAddr, st.CAPin, t.TempDir())
	acfg, err := config.Parse([]byte(yaml))
	require.NoError(t, err)
	agent := runNode(t, acfg, node.Options{Agent: node.AgentOptions{Hostname: "remote1", MetricsAddr: "-"}})
	require.NotNil(t, agent.Agent)
	require.Nil(t, agent.Log.Server, "the agent runs no NATS server")
	require.True(t, strings.HasPrefix(agent.Agent.AgentID(), "remote1-"))

	// A plaintext startup is refused; the agent records session.rejected
	// over the network and control sees it in the audit stream.
	conn, err := net.Dial("tcp", agent.Agent.Addr().String())
	require.NoError(t, err)
	body := []byte("\x00\x03\x00\x00user\x00alice\x00\x00")
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))
	_, err = conn.Write(append(msg, body...))
	require.NoError(t, err)
	_, _ = io.ReadAll(conn)
	conn.Close()
	require.Eventually(t, func() bool {
		found := false
		_ = ctl.Log.Audit.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error {
			if r.Event.Source == agent.Agent.AgentID() && r.Event.Type == schemas.TypeSessionRejected {
				found = true
			}
			return nil
		})
		return found
	}, 20*time.Second, 50*time.Millisecond, "control reads the remote agent's audit event")
}
