package jetstream_test

import (
	"context"
	"testing"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/internal/natstest"
)

func TestMain(m *testing.M) { natstest.Main(m) }

// TestCluster runs the log on three real nats-servers. The subtests share
// the cluster and run in turn: the streams' subjects are fixed, so each
// subtest starts with none.
func TestCluster(t *testing.T) {
	t.Parallel()
	c := natstest.Start(t, natstest.Options{Nodes: 3})
	nc, err := c.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	admin, err := natsjs.New(nc)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, c *natstest.Cluster, admin natsjs.JetStream)
	}{
		{"R3 from seed URLs", testOpenR3},
		{"existing R3 and a config asking 1", testReplicasMismatch},
		{"existing stream with other settings", testSettingsMismatch},
		{"bind checks what the log relies on", testBindMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() { deleteStreams(t, admin) })
			tc.run(t, c, admin)
		})
	}
}

func deleteStreams(t *testing.T, js natsjs.JetStream) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range []string{eventlog.ControlStream, eventlog.AuditStream} {
		if err := js.DeleteStream(ctx, name); err != nil {
			require.ErrorIs(t, err, natsjs.ErrStreamNotFound)
		}
	}
}

// testOpenR3: nats.url's comma-separated seeds (one of them dead) reach
// the cluster, both streams are placed on all three nodes, and the log
// keeps appending with one node stopped.
func testOpenR3(t *testing.T, c *natstest.Cluster, admin natsjs.JetStream) {
	ctx := ctxT(t)
	l := openLog(t, jetstream.Config{URL: "nats://127.0.0.1:1," + c.URL(), Replicas: 3})
	for _, name := range []string{eventlog.ControlStream, eventlog.AuditStream} {
		st, err := admin.Stream(ctx, name)
		require.NoError(t, err)
		info, err := st.Info(ctx)
		require.NoError(t, err)
		require.Equal(t, 3, info.Config.Replicas, name)
		require.NotNil(t, info.Cluster, name)
		require.Len(t, info.Cluster.Replicas, 2, name)
	}
	openLog(t, jetstream.Config{URL: c.URL(), Replicas: 3}) // binds to them: nothing differs

	require.NoError(t, c.Stop(0))
	t.Cleanup(func() { require.NoError(t, c.Restart(context.Background(), 0)) })
	ev, err := eventlog.NewBuilder("control").Build("role.created", 1, "admin",
		eventlog.ControlSubject(eventlog.KindRole, "r"), map[string]int{"i": 1})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := l.Control.Append(ctx, ev) // the same event id: stored once
		return err == nil
	}, 30*time.Second, 100*time.Millisecond)
	n := 0
	require.NoError(t, l.Control.Read(ctx, eventlog.Query{}, func(eventlog.Record) error { n++; return nil }))
	require.Equal(t, 1, n)
}

// testReplicasMismatch: a config asking other replicas than the existing
// streams have fails naming both streams, and changes nothing.
func testReplicasMismatch(t *testing.T, c *natstest.Cluster, admin natsjs.JetStream) {
	ctx := ctxT(t)
	openLog(t, jetstream.Config{URL: c.URL(), Replicas: 3})
	_, err := jetstream.Open(ctx, jetstream.Config{URL: c.URL(), Replicas: 1})
	require.ErrorIs(t, err, jetstream.ErrStreamMismatch)
	require.ErrorContains(t, err, "stream TOLLGATE_CONTROL exists with replicas 3, this config asks 1")
	require.ErrorContains(t, err, "stream TOLLGATE_AUDIT exists with replicas 3, this config asks 1")
	require.ErrorContains(t, err, "set nats.replicas to 3")
	st, err := admin.Stream(ctx, eventlog.AuditStream)
	require.NoError(t, err)
	require.Equal(t, 3, st.CachedInfo().Config.Replicas, "left as it was")
}

// testSettingsMismatch: an audit stream someone else made (memory, interest
// retention, other subjects, R1) is named with each difference; Provision
// creates nothing, not even the control stream.
func testSettingsMismatch(t *testing.T, c *natstest.Cluster, admin natsjs.JetStream) {
	ctx := ctxT(t)
	_, err := admin.CreateStream(ctx, natsjs.StreamConfig{Name: eventlog.AuditStream, Subjects: []string{"other.>"},
		Storage: natsjs.MemoryStorage, Retention: natsjs.InterestPolicy})
	require.NoError(t, err)
	_, err = jetstream.Open(ctx, jetstream.Config{URL: c.URL(), Replicas: 3})
	require.ErrorIs(t, err, jetstream.ErrStreamMismatch)
	for _, want := range []string{
		"stream TOLLGATE_AUDIT exists with replicas 1, this config asks 3",
		`subjects ["other.>"], this config asks ["tollgate.audit.>"]`,
		"storage memory, this config asks file",
		"retention interest, this config asks limits",
		"`nats stream backup`",
	} {
		require.ErrorContains(t, err, want)
	}
	require.NotContains(t, err.Error(), "TOLLGATE_CONTROL")
	_, err = admin.Stream(ctx, eventlog.ControlStream)
	require.ErrorIs(t, err, natsjs.ErrStreamNotFound, "nothing provisioned")
}

// testBindMismatch: a client that only binds (a separate agent) refuses
// streams without the deny flags, and compares replicas only when its
// config asks a number.
func testBindMismatch(t *testing.T, c *natstest.Cluster, admin natsjs.JetStream) {
	ctx := ctxT(t)
	control, audit := jetstream.Config{Replicas: 3}.StreamConfigs()
	for _, sc := range []natsjs.StreamConfig{control, audit} {
		sc.DenyDelete, sc.DenyPurge = false, false
		_, err := admin.CreateStream(ctx, sc)
		require.NoError(t, err)
	}
	_, err := jetstream.Open(ctx, jetstream.Config{URL: c.URL(), Bind: true})
	require.ErrorIs(t, err, jetstream.ErrStreamMismatch)
	require.ErrorContains(t, err, "stream TOLLGATE_CONTROL exists with deny_delete=false deny_purge=false, this config asks both on")
	require.ErrorContains(t, err, "--deny-delete --deny-purge")

	openLog(t, jetstream.Config{URL: c.URL(), Replicas: 3}) // control turns them on
	openLog(t, jetstream.Config{URL: c.URL(), Bind: true})  // no replicas asked: any
	_, err = jetstream.Open(ctx, jetstream.Config{URL: c.URL(), Bind: true, Replicas: 1})
	require.ErrorIs(t, err, jetstream.ErrStreamMismatch)
	require.ErrorContains(t, err, "stream TOLLGATE_AUDIT exists with replicas 3, this config asks 1")
}
