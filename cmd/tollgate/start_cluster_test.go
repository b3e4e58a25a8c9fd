package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/natstest"
)

// TestMain removes the nats-server natstest built, if a test did.
func TestMain(m *testing.M) { natstest.Main(m) }

// TestStartOnNATSCluster runs `tollgate start` (control only) on three
// nats-servers with mTLS, given as seed URLs with nats.ca_file,
// nats.cert_file and nats.key_file: both streams are placed on all three
// nodes, a second start binds to them, and a config asking other replicas
// fails naming what differs.
func TestStartOnNATSCluster(t *testing.T) {
	t.Parallel()
	c := natstest.Start(t, natstest.Options{Nodes: 3, TLS: true})
	dir := t.TempDir()
	conf := func(replicas int) string {
		p := filepath.Join(dir, fmt.Sprintf("tollgate-r%d.yaml", replicas))
		y := fmt.Sprintf("nats:\n  url: %q\n  replicas: %d\n  ca_file: %q\n  cert_file: %q\n  key_file: %q\n",
			c.URL(), replicas, c.TLS.CAFile, c.TLS.CertFile, c.TLS.KeyFile)
		require.NoError(t, os.WriteFile(p, []byte(y), 0o600))
		return p
	}
	data := filepath.Join(dir, "data")
	require.Equal(t, "start-test", startOnceWith(t, data, "--config", conf(3)))

	nc, err := c.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := natsjs.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var first uint64
	for _, name := range []string{eventlog.ControlStream, eventlog.AuditStream} {
		st, err := js.Stream(ctx, name)
		require.NoError(t, err)
		info, err := st.Info(ctx)
		require.NoError(t, err)
		require.Equal(t, 3, info.Config.Replicas, name)
		require.Len(t, info.Cluster.Replicas, 2, name)
		if name == eventlog.ControlStream {
			first = info.State.LastSeq
		}
	}
	require.NotZero(t, first, "control bootstrapped on the cluster")

	require.Equal(t, "start-test", startOnceWith(t, data, "--config", conf(3)))
	st, err := js.Stream(ctx, eventlog.ControlStream)
	require.NoError(t, err)
	info, err := st.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, first, info.State.LastSeq, "a second start appends nothing")

	var stdout bytes.Buffer
	stderr := &lockedBuffer{}
	code := run(ctx, []string{"start", "--data-dir", data, "--listen", "127.0.0.1:0", "--metrics-addr", "none",
		"--config", conf(1)}, strings.NewReader(""), &stdout, stderr)
	require.NotZero(t, code)
	require.Contains(t, stderr.String(), "stream TOLLGATE_CONTROL exists with replicas 3, this config asks 1")
}
