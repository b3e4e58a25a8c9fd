package node

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/join"
	"github.com/tollgate-db/tollgate/internal/config"
)

// TestRemoteLogConfig: a separate agent reaches the NATS of its join with
// its identity's files, and an external NATS (nats.url) with the config's
// creds and TLS files; either way it only binds.
func TestRemoteLogConfig(t *testing.T) {
	t.Parallel()
	id := &join.Identity{NATSURL: "tls://control:7422"}
	cfg := config.Config{DataDir: "/data"}
	jc, err := remoteLogConfig(cfg, id)
	require.NoError(t, err)
	dir := join.Dir("/data")
	require.Equal(t, "tls://control:7422", jc.URL)
	require.Equal(t, filepath.Join(dir, "host-ca.pem"), jc.CAFile)
	require.Equal(t, filepath.Join(dir, "host.crt"), jc.CertFile)
	require.Equal(t, filepath.Join(dir, "host.key"), jc.KeyFile)
	require.True(t, jc.Bind)

	cfg.NATS = config.NATS{URL: "tls://n1:4222,tls://n2:4222", Creds: "/c.creds", CAFile: "/ca.pem",
		CertFile: "/a.crt", KeyFile: "/a.key", Replicas: 3}
	jc, err = remoteLogConfig(cfg, id)
	require.NoError(t, err)
	require.Equal(t, "tls://n1:4222,tls://n2:4222", jc.URL)
	require.Equal(t, "/c.creds", jc.CredsFile)
	require.Equal(t, "/ca.pem", jc.CAFile)
	require.Equal(t, "/a.crt", jc.CertFile)
	require.Equal(t, "/a.key", jc.KeyFile)
	require.Equal(t, 3, jc.Replicas)
	require.True(t, jc.Bind)
}
