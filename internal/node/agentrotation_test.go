package node_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/join"
	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/node"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestRemoteAgentAcrossHostCARotation: an agent-only node (HTTPS to
// control, NATS over TLS with its host cert) through a whole host CA
// rotation. Its host CA trust follows the projection into its identity
// dir; in update_servers it renews its host cert over HTTPS; after
// completion (old key refused) it still calls control's API, and a NATS
// connection dropped by the server reconnects with the new cert and trust
// and carries its audit events.
func TestRemoteAgentAcrossHostCARotation(t *testing.T) {
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

	dataDir := t.TempDir()
	yaml := fmt.Sprintf("tollgate:\n  auth_token: %s\n  proxy_server: %s\n  ca_pin: %s\n  data_dir: %s\n"+
		"db_service:\n  listen_addr: 127.0.0.1:0\n  databases:\n  - name: d1\n    protocol: postgres\n    uri: 127.0.0.1:1\n",
		tok.Value, ctl.ControlAddr, st.CAPin, dataDir)
	acfg, err := config.Parse([]byte(yaml))
	require.NoError(t, err)
	aopts := node.Options{Agent: node.AgentOptions{Hostname: "remote1", MetricsAddr: "-", IdentityCheck: 100 * time.Millisecond}}
	agent, stopAgent := startNode(t, acfg, aopts)
	gw := agent.Agent
	caFile := filepath.Join(join.Dir(dataDir), "host-ca.pem")

	step := func(action string) wire.Rotation {
		r, err := ctl.Control.CAs().Rotate(ctx, admin, wire.RotateRequest{Type: schemas.CAHost, Action: action})
		require.NoError(t, err)
		return r
	}
	r := step(wire.RotateStart)
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(caFile)
		return string(b) == strings.Join(r.Trusted, "")
	}, 20*time.Second, 50*time.Millisecond, "the agent stores the old+new bundle")
	step(wire.RotateNext)
	step(wire.RotateNext)
	newCA, err := pki.ParseCertPEM([]byte(r.Trusted[1]))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return gw.HostCertificate().CheckSignatureFrom(newCA) == nil },
		20*time.Second, 50*time.Millisecond, "the agent renews its host cert from the new key over HTTPS")
	r = step(wire.RotateNext)
	require.Equal(t, schemas.PhaseStandby, r.Phase)
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(caFile)
		return string(b) == r.Trusted[0]
	}, 20*time.Second, 50*time.Millisecond, "the agent stores the new-only bundle")

	// HTTPS: control's new cert is trusted, the renewed host cert accepted.
	require.NoError(t, gw.Reload(ctx))

	// NATS: drop the agent's connection; it reconnects with the new files.
	ns := ctl.Log.Server.NATS()
	conns, err := ns.Connz(&server.ConnzOptions{Username: true})
	require.NoError(t, err)
	kicked := 0
	for _, c := range conns.Conns {
		if c.TLSVersion != "" {
			require.NoError(t, ns.DisconnectClientByID(c.Cid))
			kicked++
		}
	}
	require.Positive(t, kicked)

	conn, err := net.Dial("tcp", gw.Addr().String())
	require.NoError(t, err)
	body := []byte("\x00\x03\x00\x00user\x00alice\x00\x00")
	_, err = conn.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(body)+4)), body...))
	require.NoError(t, err)
	_, _ = io.ReadAll(conn)
	conn.Close()
	require.Eventually(t, func() bool {
		found := false
		_ = ctl.Log.Audit.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error {
			if r.Event.Source == gw.AgentID() && r.Event.Type == schemas.TypeSessionRejected {
				found = true
			}
			return nil
		})
		return found
	}, 30*time.Second, 100*time.Millisecond, "the reconnected agent publishes to the audit stream")

	// A restart works from the refreshed identity dir.
	stopAgent()
	again, _ := startNode(t, acfg, aopts)
	require.Equal(t, gw.AgentID(), again.Agent.AgentID())
	require.NoError(t, again.Agent.HostCertificate().CheckSignatureFrom(newCA))
	require.NoError(t, again.Agent.Reload(ctx))
}

// startNode is runNode with a stop function (also run at cleanup).
func startNode(t *testing.T, cfg config.Config, opts node.Options) (*node.Env, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *node.Env, 1)
	done := make(chan error, 1)
	opts.Ready = func(env *node.Env) { ready <- env }
	go func() { done <- node.Run(ctx, cfg, zerolog.Nop(), opts) }()
	select {
	case env := <-ready:
		var once sync.Once
		stop := func() {
			once.Do(func() {
				cancel()
				require.NoError(t, <-done)
			})
		}
		t.Cleanup(stop)
		return env, stop
	case err := <-done:
		cancel()
		t.Fatalf("node did not start: %v", err)
	case <-time.After(90 * time.Second):
		cancel()
		t.Fatal("node did not start within 90s")
	}
	return nil, nil
}
