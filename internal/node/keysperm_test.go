package node_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/keystore/natskv"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/node"
)

// TestAgentsCannotReadTheKeysBucket: with control.keystore nats on the
// embedded server, a joined agent's NATS connection (over the listener,
// with its host cert) can neither bind the keys bucket nor get a value
// from it directly; control's own connection can.
func TestAgentsCannotReadTheKeysBucket(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.DataDir, cfg.ClusterName = t.TempDir(), "test-cluster"
	cfg.Control.ListenAddr, cfg.NATS.ListenAddr, cfg.Control.MetricsAddr = "127.0.0.1:0", "127.0.0.1:0", "none"
	cfg.Control.Keystore, cfg.Control.SealKeyFile = config.KeystoreNATS, filepath.Join(t.TempDir(), "seal.key")
	ctl := runNode(t, cfg, node.Options{})
	ctx := context.Background()
	st, err := ctl.Control.Cluster().Status(admin)
	require.NoError(t, err)
	tok, err := ctl.Control.Tokens().Add(ctx, admin, wire.TokenAdd{Type: control.TokenTypeDB})
	require.NoError(t, err)
	yaml := fmt.Sprintf("tollgate:\n  auth_token: %s\n  proxy_server: %s\n  ca_pin: %s\n  data_dir: %s\ndb_service:\n  listen_addr: 127.0.0.1:0\n",
		tok.Value, ctl.ControlAddr, st.CAPin, t.TempDir())
	acfg, err := config.Parse([]byte(yaml))
	require.NoError(t, err)
	agent := runNode(t, acfg, node.Options{Agent: node.AgentOptions{Hostname: "remote1", MetricsAddr: "-"}})

	kv, err := ctl.Log.JS.KeyValue(ctx, natskv.DefaultBucket)
	require.NoError(t, err, "control reads its bucket")
	keys, err := kv.ListKeys(ctx)
	require.NoError(t, err)
	var some string
	for k := range keys.Keys() {
		some = k
	}
	require.NotEmpty(t, some)

	direct := "$JS.API.DIRECT.GET.KV_" + natskv.DefaultBucket + ".$KV." + natskv.DefaultBucket + "." + some
	msg, err := ctl.Log.Conn.RequestWithContext(ctx, direct, nil)
	require.NoError(t, err, "the direct get works for control")
	require.NotEmpty(t, msg.Data)

	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = agent.Log.JS.KeyValue(actx, natskv.DefaultBucket)
	require.Error(t, err, "an agent cannot bind the keys bucket")
	_, err = agent.Log.Conn.RequestWithContext(actx, direct, nil)
	require.Error(t, err, "an agent cannot get a value directly")
}
