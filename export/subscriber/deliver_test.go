package subscriber

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/export"
)

// partialSink accepts every item but those of the stream sequences in
// refuse, which it refuses once each (a *PartialError); with down set it
// refuses every write, and the first failNext writes. It records the sequences it accepted.
type partialSink struct {
	mu       sync.Mutex
	refuse   map[uint64]bool
	down     bool
	failNext int // writes to refuse whole before anything else
	accepted []uint64
}

func (p *partialSink) Write(_ context.Context, b []export.Item) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down || p.failNext > 0 {
		p.failNext--
		return errors.New("destination down")
	}
	var failed []int
	for i, it := range b {
		if p.refuse[it.StreamSeq] {
			delete(p.refuse, it.StreamSeq)
			p.down = p.down || p.refuse[0]
			failed = append(failed, i)
			continue
		}
		p.accepted = append(p.accepted, it.StreamSeq)
	}
	if len(failed) > 0 {
		return &export.PartialError{Failed: failed, Err: errors.New("some refused")}
	}
	return nil
}

func (p *partialSink) Close() error { return nil }

func (p *partialSink) seqs() []uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]uint64(nil), p.accepted...)
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// ackFloor is the stream sequence a sink's consumer acked all up to (0
// while it has none, as when it is being recreated).
func ackFloor(e *env, sink string) uint64 {
	c, err := e.js.Consumer(context.Background(), eventlog.AuditStream, ConsumerName(sink))
	if err != nil {
		return 0
	}
	info, err := c.Info(context.Background())
	if err != nil {
		return 0
	}
	return info.AckFloor.Stream
}

// startBatches runs a subscriber of sink name in batches of 10 events,
// writing to sink.
func startBatches(t *testing.T, e *env, name string, sink export.Sink, opts Options) (*Subscriber, func()) {
	cfg := fileSink(name, filepath.Join(t.TempDir(), "unused.jsonl"))
	cfg.Batch.MaxEvents = 10
	opts.Logger = zerolog.Nop()
	sub, err := New(e.js, cfg, sink, opts)
	require.NoError(t, err)
	return sub, run(t, sub)
}

// waitAcked waits until ps accepted n events and the consumer of sink
// name acked the stream up to floor.
func waitAcked(t *testing.T, e *env, name string, ps *partialSink, n int, floor uint64) {
	require.Eventually(t, func() bool { return len(ps.seqs()) >= n && ackFloor(e, name) == floor }, 20*time.Second, 20*time.Millisecond)
}

// TestPartialFailureRetriesOnlyRefused: a batch the sink accepted in part
// sends again only what it refused, and once all is accepted the consumer
// has acked the whole batch.
func TestPartialFailureRetriesOnlyRefused(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	e.appendQueries(t, 30)
	ps := &partialSink{refuse: map[uint64]bool{4: true, 8: true}}
	_, stop := startBatches(t, e, "partial", ps, Options{})
	defer stop()
	waitAcked(t, e, "partial", ps, 30, 30)
	got := ps.seqs()
	want := append(append(append(seqRange(1, 3), seqRange(5, 7)...), seqRange(9, 10)...), 4, 8)
	require.Equal(t, append(want, seqRange(11, 30)...), got)
}

// TestRetryWithPrefetchedBatch: a full batch the sink refuses at first
// has the next batch already fetched; it is dropped, and delivered again
// from the ack floor: every event once, in order.
func TestRetryWithPrefetchedBatch(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	e.appendQueries(t, 30)
	ps := &partialSink{failNext: 2}
	_, stop := startBatches(t, e, "prefetch", ps, Options{})
	defer stop()
	waitAcked(t, e, "prefetch", ps, 30, 30)
	require.Equal(t, seqRange(1, 30), ps.seqs())
}

// TestPartialFailureThenCrash: when the subscriber stops while it retries
// what the sink refused, the consumer has acked only the messages before
// the first refused one; the next subscriber gets the rest again (at least
// once), nothing before.
func TestPartialFailureThenCrash(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	e.appendQueries(t, 30)
	// Refuse 5 and 8, then everything (refuse[0] marks "then go down").
	ps := &partialSink{refuse: map[uint64]bool{5: true, 8: true, 0: true}}
	opts := Options{AckWait: 300 * time.Millisecond}
	sub, stop := startBatches(t, e, "crash", ps, opts)
	require.Eventually(t, func() bool {
		return ackFloor(e, "crash") == 4 && sub.Status(context.Background()).Streams[0].Retrying
	}, 20*time.Second, 10*time.Millisecond)
	stop()
	require.Equal(t, []uint64{1, 2, 3, 4, 6, 7, 9, 10}, ps.seqs())

	again := &partialSink{}
	_, stop = startBatches(t, e, "crash", again, opts)
	defer stop()
	waitAcked(t, e, "crash", again, 26, 30)
	require.Equal(t, seqRange(5, 30), again.seqs())
}

// thiefSink records the sequences it accepts; during its first write it
// appends more events and has another client of the same durable consumer
// take one of them without acking it.
type thiefSink struct {
	partialSink
	once  sync.Once
	steal func()
}

func (s *thiefSink) Write(ctx context.Context, b []export.Item) error {
	s.once.Do(s.steal)
	return s.partialSink.Write(ctx, b)
}

// TestDeliveryGapResumesFromAckFloor: a message the consumer delivered
// elsewhere is a gap in this subscriber's deliveries; acking past it would
// ack it too. The subscriber writes nothing past the gap and resumes from
// the ack floor: every event reaches the sink, in order. (The first batch
// is not full, so no next batch is prefetched: the other client's fetch is
// the only one waiting.)
func TestDeliveryGapResumesFromAckFloor(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	e.appendQueries(t, 5)
	ts := &thiefSink{}
	ts.steal = func() {
		e.appendQueries(t, 10)
		c, err := e.js.Consumer(context.Background(), eventlog.AuditStream, ConsumerName("gap"))
		require.NoError(t, err)
		fb, err := c.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
		require.NoError(t, err)
		n := 0
		for m := range fb.Messages() {
			md, err := m.Metadata()
			require.NoError(t, err)
			require.EqualValues(t, 6, md.Sequence.Stream)
			n++
		}
		require.Equal(t, 1, n)
	}
	_, stop := startBatches(t, e, "gap", ts, Options{})
	defer stop()
	waitAcked(t, e, "gap", &ts.partialSink, 15, 15)
	require.Equal(t, seqRange(1, 15), ts.seqs())
}
