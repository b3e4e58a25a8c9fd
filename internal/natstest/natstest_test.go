package natstest_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/internal/natstest"
)

func TestMain(m *testing.M) { natstest.Main(m) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestClusterR3: three nodes form a cluster that places an R3 stream on
// all of them, and it keeps serving with one node stopped and after that
// node is back.
func TestClusterR3(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	c := natstest.Start(t, natstest.Options{Nodes: 3})
	require.Len(t, c.URLs(), 3)
	js := connect(t, c)
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "R3", Subjects: []string{"r3.>"}, Replicas: 3})
	require.NoError(t, err)
	info, err := st.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, info.Config.Replicas)
	require.NotNil(t, info.Cluster)
	require.Len(t, info.Cluster.Replicas, 2, "a leader and two replicas")

	require.NoError(t, c.Stop(2))
	_, err = js.Publish(ctx, "r3.a", []byte("with a node down"))
	require.NoError(t, err)
	require.NoError(t, c.Restart(ctx, 2))
	_, err = js.Publish(ctx, "r3.b", []byte("with the node back"))
	require.NoError(t, err)
	info, err = st.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), info.State.Msgs)
}

// TestSingleNodeTLS: one node with mTLS on the client port takes a client
// with the made certs and refuses one without a client cert.
func TestSingleNodeTLS(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	c := natstest.Start(t, natstest.Options{TLS: true})
	require.Len(t, c.URLs(), 1)
	require.Contains(t, c.URL(), "tls://127.0.0.1:")
	js := connect(t, c)
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "R1", Subjects: []string{"r1.>"}})
	require.NoError(t, err)
	_, err = nats.Connect(c.URL(), nats.RootCAs(c.TLS.CAFile), nats.MaxReconnects(0))
	require.Error(t, err, "no client cert")
	_, err = nats.Connect(c.URL(), nats.ClientCert(c.TLS.CertFile, c.TLS.KeyFile), nats.MaxReconnects(0))
	require.Error(t, err, "server cert from a CA the client does not trust")
}

func connect(t *testing.T, c *natstest.Cluster) jetstream.JetStream {
	t.Helper()
	nc, err := c.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return js
}
