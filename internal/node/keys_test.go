package node_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/keystore"
	"github.com/tollgate-db/tollgate/control/keystore/natskv"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/node"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
	"github.com/tollgate-db/tollgate/internal/testio"
)

// count is how often s stands in what log holds so far.
func count(log *testio.Buffer, s string) int { return strings.Count(log.String(), s) }

func caPin(t *testing.T, n *nodetest.Node) string {
	t.Helper()
	st, err := n.Env.Control.Cluster().Status(admin)
	require.NoError(t, err)
	require.NotEmpty(t, st.CAPin)
	return st.CAPin
}

// signs checks that control signs with its db CA key (from its keystore).
func signs(t *testing.T, n *nodetest.Node) {
	t.Helper()
	out, err := n.Env.Control.Certs().Sign(context.Background(), admin, wire.SignRequest{Format: "tls", Hosts: []string{"db.example"}, TTL: time.Hour})
	require.NoError(t, err)
	require.Contains(t, out.CertPEM, "BEGIN CERTIFICATE")
}

const importedMsg = "imported the data dir's keystore into NATS KV"

// TestKeystoreNATSImportsTheDataDirOnce: a node made with the file
// keystore (no seal key) switched to control.keystore nats imports its
// CA keys and secrets into the sealed bucket once and says so; from then
// on the bucket is the keystore: with the data dir's keystore gone, the
// same CAs sign.
func TestKeystoreNATSImportsTheDataDirOnce(t *testing.T) {
	t.Parallel()
	dir, seal := t.TempDir(), filepath.Join(t.TempDir(), "seal.key")
	logs := &testio.Buffer{}
	n := nodetest.StartIn(t, dir, logs, nil)
	pin := caPin(t, n)
	n.Stop()
	require.Zero(t, count(logs, importedMsg))

	inNATS := func(c *config.Config) { c.Control.Keystore, c.Control.SealKeyFile = config.KeystoreNATS, seal }
	n = nodetest.StartIn(t, dir, logs, inNATS)
	require.Equal(t, 1, count(logs, importedMsg))
	require.Equal(t, pin, caPin(t, n), "the same CAs, not a second set")
	signs(t, n)
	kv, err := n.Env.Log.JS.KeyValue(context.Background(), natskv.DefaultBucket)
	require.NoError(t, err)
	lister, err := kv.ListKeys(context.Background())
	require.NoError(t, err)
	keys := 0
	for k := range lister.Keys() {
		e, err := kv.Get(context.Background(), k)
		require.NoError(t, err)
		require.True(t, keystore.IsSealed(e.Value()), k)
		require.NotContains(t, string(e.Value()), "PRIVATE KEY")
		if strings.HasPrefix(k, keystore.KindKey+".") {
			keys++
		}
	}
	require.GreaterOrEqual(t, keys, len(control.CATypes), "every CA's key is in the bucket")
	n.Stop()

	require.NoError(t, os.RemoveAll(control.KeystoreDir(dir)))
	n = nodetest.StartIn(t, dir, logs, inNATS)
	require.Equal(t, 1, count(logs, importedMsg), "imported once")
	require.Equal(t, pin, caPin(t, n))
	signs(t, n)
}

// TestKeystoreNATSWithAnotherSealKeyRefuses: a control whose seal key
// file is missing, on a bucket already in use, stops with an error saying
// what to copy, and leaves no seal key file of its own behind.
func TestKeystoreNATSWithAnotherSealKeyRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seal := filepath.Join(t.TempDir(), "seal.key")
	n := nodetest.StartIn(t, dir, nil, func(c *config.Config) { c.Control.Keystore, c.Control.SealKeyFile = config.KeystoreNATS, seal })
	n.Stop()

	other := filepath.Join(t.TempDir(), "seal.key")
	cfg := config.Default()
	cfg.DataDir, cfg.ClusterName = dir, "test-cluster"
	cfg.Control.ListenAddr, cfg.Control.MetricsAddr, cfg.NATS.ListenAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Control.Keystore, cfg.Control.SealKeyFile = config.KeystoreNATS, other
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := node.Run(ctx, cfg, zerolog.Nop(), node.Options{})
	require.ErrorContains(t, err, "copy the seal key file of the controls already running to this host")
	require.ErrorIs(t, err, keystore.ErrSealed)
	_, statErr := os.Stat(other)
	require.True(t, os.IsNotExist(statErr), "the key made for nothing is removed")
}
