package node_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog/embedded"
	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
	"github.com/tollgate-db/tollgate/internal/testio"
	"github.com/tollgate-db/tollgate/schemas"
)

const checkpointLeaseTaken = `"lease":"control-checkpoints","holder"`

// sharedNATS starts a NATS server for the test and returns the config
// change that puts a control on it with the nats keystore (one seal key
// file for all).
func sharedNATS(t *testing.T) func(*config.Config) {
	t.Helper()
	srv, err := embedded.Start(context.Background(), embedded.Config{StoreDir: t.TempDir(), Listen: "127.0.0.1:0", Logger: zerolog.Nop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	seal := filepath.Join(t.TempDir(), "seal.key")
	return func(c *config.Config) {
		c.NATS.URL, c.NATS.ListenAddr = srv.ClientURL(), "none"
		c.Control.Keystore, c.Control.SealKeyFile = config.KeystoreNATS, seal
	}
}

// TestTwoControlsOnOneNATS: two controls with control.keystore nats on one
// NATS server, each with its own data dir: both serve, a write on one is
// read on the other, the CAs the first made sign on the second (their keys
// are in the shared bucket), the checkpoints run on one of them at a time
// and move to the other when it stops.
func TestTwoControlsOnOneNATS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shared := sharedNATS(t)
	logA, logB := &testio.Buffer{}, &testio.Buffer{}
	a := nodetest.StartIn(t, t.TempDir(), logA, shared)
	require.Eventually(t, func() bool { return count(logA, "lease taken") == 1 }, 20*time.Second, 20*time.Millisecond)
	b := nodetest.StartIn(t, t.TempDir(), logB, shared)
	require.Equal(t, caPin(t, a), caPin(t, b), "one cluster, one set of CAs")

	_, err := a.Env.Control.Users().Add(ctx, admin, schemas.User{Name: "alice", Roles: []string{"auditor"}})
	require.NoError(t, err)
	require.NoError(t, b.Env.Control.Sync(ctx))
	u, err := b.Env.Control.Users().Get(admin, "alice")
	require.NoError(t, err, "a write on one control is read on the other")
	require.Equal(t, []string{"auditor"}, u.Roles)
	signs(t, a)
	signs(t, b)

	require.Equal(t, 1, count(logA, checkpointLeaseTaken), "a took the checkpoints' lease")
	require.Zero(t, count(logB, checkpointLeaseTaken), "b waits while a holds it")
	a.Stop()
	require.Equal(t, 1, count(logA, "lease released"), "a released the lease as it stopped")
	require.Eventually(t, func() bool { return count(logB, checkpointLeaseTaken) == 1 }, 30*time.Second, 50*time.Millisecond,
		"b takes the checkpoints over")
	signs(t, b)
}

// exportTo is an export section with one file sink (the same sink, and so
// the same durable consumer, on every node) writing to path.
func exportTo(t *testing.T, path string) func(*config.Config) {
	c, err := config.Parse([]byte(fmt.Sprintf("export:\n  sinks:\n  - name: audit-file\n    type: file\n    file:\n      path: %s\n", path)))
	require.NoError(t, err)
	return func(cfg *config.Config) { cfg.Export = c.Export }
}

func fileHas(path, s string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.Contains(string(b), s)
}

// TestExportRunsUnderTheLease: two controls with the same export sink run
// its subscriber one at a time: only the lease holder's file receives
// events; when it stops, the other's subscriber takes over.
func TestExportRunsUnderTheLease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shared := sharedNATS(t)
	fileA, fileB := filepath.Join(t.TempDir(), "a.jsonl"), filepath.Join(t.TempDir(), "b.jsonl")
	node := func(file string, logs *testio.Buffer) *nodetest.Node {
		exp := exportTo(t, file)
		return nodetest.StartIn(t, t.TempDir(), logs, func(c *config.Config) {
			shared(c)
			exp(c)
		})
	}
	logA, logB := &testio.Buffer{}, &testio.Buffer{}
	a := node(fileA, logA)
	require.Eventually(t, func() bool { return count(logA, `"lease":"export","holder"`) == 1 }, 20*time.Second, 20*time.Millisecond)
	b := node(fileB, logB)

	signs(t, a) // cert.issued, an audit event
	require.Eventually(t, func() bool { return fileHas(fileA, "cert.issued") }, 20*time.Second, 50*time.Millisecond)
	require.Zero(t, count(logB, `"lease":"export","holder"`), "b's subscriber waits")
	_, statErr := os.Stat(fileB)
	require.True(t, os.IsNotExist(statErr) || !fileHas(fileB, "cert.issued"), "only the holder exports")

	a.Stop()
	require.Eventually(t, func() bool { return count(logB, `"lease":"export","holder"`) == 1 }, 30*time.Second, 50*time.Millisecond)
	out, err := b.Env.Control.Certs().Sign(ctx, admin, wire.SignRequest{Format: "tls", Hosts: []string{"after.example"}, TTL: time.Hour})
	require.NoError(t, err)
	require.NotEmpty(t, out.CertPEM)
	require.Eventually(t, func() bool { return fileHas(fileB, "cert.issued") }, 20*time.Second, 50*time.Millisecond,
		"b exports what was appended after a stopped")
}
