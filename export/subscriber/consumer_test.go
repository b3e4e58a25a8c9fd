package subscriber

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
)

// oldConsumer is a sink's durable consumer as an older release created
// it (ack explicit), which has acked the first acked events and holds the
// next delivered ones unacked.
func oldConsumer(t *testing.T, e *env, sink string, acked, delivered int) {
	ctx := context.Background()
	cons, err := e.js.CreateConsumer(ctx, eventlog.AuditStream, jetstream.ConsumerConfig{
		Durable: ConsumerName(sink), DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Hour, MaxDeliver: -1})
	require.NoError(t, err)
	fb, err := cons.Fetch(delivered, jetstream.FetchMaxWait(5*time.Second))
	require.NoError(t, err)
	n := 0
	for m := range fb.Messages() {
		if n < acked {
			require.NoError(t, m.DoubleAck(ctx))
		}
		n++
	}
	require.Equal(t, delivered, n)
}

func consumerNames(t *testing.T, e *env) map[string]jetstream.AckPolicy {
	out := map[string]jetstream.AckPolicy{}
	st, err := e.js.Stream(context.Background(), eventlog.AuditStream)
	require.NoError(t, err)
	l := st.ListConsumers(context.Background())
	for info := range l.Info() {
		out[info.Name] = info.Config.AckPolicy
	}
	require.NoError(t, l.Err())
	return out
}

// exportFile runs a file sink until it wrote want lines and nothing is
// left, and returns the ids it wrote.
func exportFile(t *testing.T, e *env, sink, path string, want int) []string {
	cfg := fileSink(sink, path)
	s, err := NewSink(cfg)
	require.NoError(t, err)
	sub, err := New(e.js, cfg, s, Options{Logger: zerolog.Nop()})
	require.NoError(t, err)
	stop := run(t, sub)
	require.Eventually(t, func() bool {
		return len(lines(t, path)) >= want && sub.Status(context.Background()).Streams[0].Lag == 0
	}, 20*time.Second, 20*time.Millisecond)
	stop()
	var ids []string
	for _, m := range lines(t, path) {
		ids = append(ids, m["id"].(string))
	}
	return ids
}

// TestUpgradeFromAckExplicit: a consumer an older release left (ack
// explicit, 100 acked, 50 more delivered) is replaced by an ack-all one
// that resumes after its ack floor: nothing acked is exported again,
// nothing after it is skipped, and a restart keeps the new consumer.
func TestUpgradeFromAckExplicit(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	ids := e.appendQueries(t, 250)
	oldConsumer(t, e, "up", 100, 150)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	require.Equal(t, ids[100:], exportFile(t, e, "up", path, 150))
	require.Equal(t, map[string]jetstream.AckPolicy{ConsumerName("up"): jetstream.AckAllPolicy}, consumerNames(t, e))

	ids = append(ids, e.appendQueries(t, 20)...)
	require.Equal(t, ids[100:], exportFile(t, e, "up", path, 170))
	require.Equal(t, map[string]jetstream.AckPolicy{ConsumerName("up"): jetstream.AckAllPolicy}, consumerNames(t, e))
}

// TestUpgradeInterrupted: a move to ack all that stopped half way resumes
// from the position it kept, whichever step it stopped after.
func TestUpgradeInterrupted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bookmark := func(t *testing.T, e *env, sink string, from uint64) {
		_, err := e.js.CreateConsumer(ctx, eventlog.AuditStream, jetstream.ConsumerConfig{Durable: bookmarkName(sink),
			DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from, AckPolicy: jetstream.AckNonePolicy})
		require.NoError(t, err)
	}
	t.Run("after the bookmark", func(t *testing.T) {
		t.Parallel()
		e := startEnv(t)
		ids := e.appendQueries(t, 200)
		oldConsumer(t, e, "a", 120, 120)
		bookmark(t, e, "a", 51) // an older attempt's: the old consumer's floor is further
		got := exportFile(t, e, "a", filepath.Join(t.TempDir(), "a.jsonl"), 80)
		require.Equal(t, ids[120:], got)
		require.Equal(t, map[string]jetstream.AckPolicy{ConsumerName("a"): jetstream.AckAllPolicy}, consumerNames(t, e))
	})
	t.Run("after deleting the old consumer", func(t *testing.T) {
		t.Parallel()
		e := startEnv(t)
		ids := e.appendQueries(t, 200)
		bookmark(t, e, "b", 61)
		got := exportFile(t, e, "b", filepath.Join(t.TempDir(), "b.jsonl"), 140)
		require.Equal(t, ids[60:], got)
		require.Equal(t, map[string]jetstream.AckPolicy{ConsumerName("b"): jetstream.AckAllPolicy}, consumerNames(t, e))
	})
}
