package embedded_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog/embedded"
)

// leafPair is a hub with a leaf-node listener and a leaf node connected
// to it, each with a JetStream domain.
type leafPair struct {
	hub, leaf *embedded.Server
	hubJS     jetstream.JetStream
	leafJS    jetstream.JetStream
	// toHub is the leaf's JetStream context for the hub's domain.
	toHub jetstream.JetStream
}

func startLeafPair(t *testing.T, ctx context.Context, authorize embedded.AuthorizeFunc, deny []string) *leafPair {
	t.Helper()
	dir := t.TempDir()
	ca, caKey := makeCert(t, nil, nil, "test ca", true)
	srvCert, srvKey := makeCert(t, ca, caKey, "localhost", false)
	leafCert, leafKey := makeCert(t, ca, caKey, "agent-1", false)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	logger := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	if os.Getenv("LEAF_DEBUG") != "" {
		logger = logger.Level(zerolog.TraceLevel)
	}
	hub, err := embedded.Start(ctx, embedded.Config{
		StoreDir: filepath.Join(dir, "hub"), ServerName: "hub", Domain: "hub",
		Listen: "127.0.0.1:0", LeafListen: "127.0.0.1:0",
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{{Certificate: [][]byte{srvCert.Raw}, PrivateKey: srvKey}},
			ClientCAs:    pool, MinVersion: tls.VersionTLS12,
		},
		AuthorizeLeaf: authorize,
		Logger:        logger.With().Str("side", "hub").Logger(),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = hub.Shutdown(context.Background()) })
	require.NotEmpty(t, hub.LeafURL())
	leaf, err := embedded.Start(ctx, embedded.Config{
		StoreDir: filepath.Join(dir, "leaf"), ServerName: "agent-1", Domain: "agent-1",
		Leaf: &embedded.LeafRemote{
			URLs: []string{hub.LeafURL()},
			TLSConfig: &tls.Config{
				Certificates: []tls.Certificate{{Certificate: [][]byte{leafCert.Raw}, PrivateKey: leafKey}},
				RootCAs:      pool, MinVersion: tls.VersionTLS12,
			},
			DenyExports: deny,
			DenyImports: deny,
			Reconnect:   100 * time.Millisecond,
		},
		Logger: logger.With().Str("side", "leaf").Logger(),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = leaf.Shutdown(context.Background()) })
	p := &leafPair{hub: hub, leaf: leaf}
	hnc, err := hub.Connect()
	require.NoError(t, err)
	t.Cleanup(hnc.Close)
	lnc, err := leaf.Connect()
	require.NoError(t, err)
	t.Cleanup(lnc.Close)
	p.hubJS, err = jetstream.New(hnc)
	require.NoError(t, err)
	p.leafJS, err = jetstream.New(lnc)
	require.NoError(t, err)
	p.toHub, err = jetstream.NewWithDomain(lnc, "hub")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return hub.LeafConnected() && leaf.LeafConnected() }, 20*time.Second, 20*time.Millisecond)
	return p
}

func TestLeafNodeSourcesAndMirrors(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	p := startLeafPair(t, ctx, limited, []string{"aud.>"})
	_, err := p.hubJS.CreateStream(ctx, jetstream.StreamConfig{Name: "CTRL", Subjects: []string{"ctrl.>"}})
	require.NoError(t, err)
	_, err = p.hubJS.CreateStream(ctx, jetstream.StreamConfig{Name: "AUD", Subjects: []string{"aud.>"}})
	require.NoError(t, err)
	_, err = p.leafJS.CreateStream(ctx, jetstream.StreamConfig{Name: "AUD", Subjects: []string{"aud.>"}, Discard: jetstream.DiscardNew})
	require.NoError(t, err)
	_, err = p.leafJS.CreateStream(ctx, jetstream.StreamConfig{Name: "CTRL",
		Mirror: &jetstream.StreamSource{Name: "CTRL", External: &jetstream.ExternalStream{APIPrefix: "$JS.hub.API"}}})
	require.NoError(t, err)
	_, err = p.hubJS.UpdateStream(ctx, jetstream.StreamConfig{Name: "AUD", Subjects: []string{"aud.>"},
		Sources: []*jetstream.StreamSource{{Name: "AUD", External: &jetstream.ExternalStream{APIPrefix: "$JS.agent-1.API"}}}})
	require.NoError(t, err)

	for i := range 50 {
		_, err := p.leafJS.Publish(ctx, fmt.Sprintf("aud.x.%d", i), []byte("e"), jetstream.WithMsgID(fmt.Sprint("id-", i)))
		require.NoError(t, err)
		_, err = p.hubJS.Publish(ctx, "ctrl.y", []byte("c"))
		require.NoError(t, err)
	}
	// A hub client's audit publish is not taken by the leaf's stream.
	_, err = p.hubJS.Publish(ctx, "aud.hub", []byte("h"))
	require.NoError(t, err)
	waitMsgs(t, ctx, p.hubJS, "AUD", 51)
	waitMsgs(t, ctx, p.leafJS, "CTRL", 50)
	waitMsgs(t, ctx, p.leafJS, "AUD", 50)
	_, err = p.toHub.Stream(ctx, "AUD")
	require.NoError(t, err)
}

func limited(c *x509.Certificate) (embedded.Client, error) {
	return embedded.LeafAgentClient(c.Subject.CommonName, "hub", "agent-1", "CTRL", "AUD"), nil
}

// TestLeafAgentCannotWriteIntoTheHub: a leaf whose own server denies
// nothing (an agent host taken over) still cannot, across the leaf node,
// publish control or audit events into the hub's streams, nor delete,
// purge or edit them, nor read any other stream.
func TestLeafAgentCannotWriteIntoTheHub(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	p := startLeafPair(t, ctx, limited, nil)
	for _, name := range []string{"CTRL", "AUD", "OTHER"} {
		_, err := p.hubJS.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{strings.ToLower(name) + ".>"}})
		require.NoError(t, err)
	}
	nc, err := p.leaf.Connect()
	require.NoError(t, err)
	defer nc.Close()
	for _, subj := range []string{"ctrl.role.evil", "aud.db.alice.s.query", "other.x", "$JS.hub.API.STREAM.DELETE.AUD",
		"$JS.hub.API.STREAM.PURGE.AUD", "$JS.hub.API.STREAM.UPDATE.AUD", "$JS.API.STREAM.DELETE.AUD"} {
		require.NoError(t, nc.Publish(subj, []byte(`{}`)))
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = p.toHub.Stream(short, "OTHER")
	require.Error(t, err, "no stream info of another stream")
	_, err = p.toHub.CreateConsumer(short, "AUD", jetstream.ConsumerConfig{})
	require.Error(t, err, "no consumer on the hub's audit stream")
	// A request that is answered comes after the publishes on the one
	// leaf connection: by its answer the hub has seen them all.
	_, err = p.toHub.Stream(ctx, "AUD")
	require.NoError(t, err)
	for _, name := range []string{"CTRL", "AUD", "OTHER"} {
		st, err := p.hubJS.Stream(ctx, name)
		require.NoError(t, err, "stream %s still exists", name)
		require.Zero(t, st.CachedInfo().State.Msgs, "stream %s took nothing from the leaf", name)
	}
}

func waitMsgs(t *testing.T, ctx context.Context, js jetstream.JetStream, stream string, n uint64) {
	t.Helper()
	var last uint64
	require.Eventually(t, func() bool {
		st, err := js.Stream(ctx, stream)
		if err != nil {
			return false
		}
		last = st.CachedInfo().State.Msgs
		return last == n
	}, 20*time.Second, 20*time.Millisecond, "stream %s: want %d messages", stream, n)
	_ = last
	_ = nats.ErrTimeout
}
