package node_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/node"
)

// TestMetricsListeners: a single node whose control and agent share one
// metrics address serves them from one listener (the agent's); an
// address another process holds fails the start, saying what to do.
func TestMetricsListeners(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	addr := taken.Addr().String()

	cfg := config.Default()
	cfg.DataDir, cfg.ClusterName = t.TempDir(), "metrics"
	cfg.Control.ListenAddr, cfg.NATS.ListenAddr, cfg.Control.MetricsAddr = "127.0.0.1:0", "none", addr
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = node.Run(ctx, cfg, zerolog.Nop(), node.Options{})
	require.ErrorContains(t, err, "control metrics listener on "+addr+" (another tollgate on this host?")

	require.NoError(t, taken.Close())
	cfg.DataDir = t.TempDir()
	cfg.AgentEnabled = true
	cfg.Agent.DBService.ListenAddr, cfg.Agent.DBService.MetricsAddr = "127.0.0.1:0", addr
	env := runNode(t, cfg, node.Options{})
	require.Nil(t, env.MetricsAddr, "control serves no listener of its own")
	require.Equal(t, addr, env.Agent.MetricsAddr().String())
	// Healthy once the agent has the control state.
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond)
}
