package jetstream

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/logtest"
)

// directLog is an embedded log with a test stream "T" on t.> that, unlike
// the provisioned ones, lets messages be deleted (to make gaps).
func directLog(t *testing.T, allowDirect bool) (*Log, *Stream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	l := embeddedLog(t)
	_, err := l.JS.CreateStream(ctx, natsjs.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Storage: natsjs.FileStorage, AllowDirect: allowDirect})
	require.NoError(t, err)
	s, err := NewStream(ctx, l.JS, "T")
	require.NoError(t, err)
	return l, s
}

// embeddedLog opens an embedded log in a temporary directory, closed at
// the test's end.
func embeddedLog(t *testing.T) *Log {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := Open(ctx, Config{DataDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer ccancel()
		require.NoError(t, l.Close(cctx))
	})
	return l
}

// publishN stores n events of about size bytes each on t.<i%7>, with a
// Nats-Msg-Id header as Append writes, and returns their sequences.
func publishN(t *testing.T, l *Log, n, size int) []uint64 {
	t.Helper()
	b := eventlog.NewBuilder("test")
	pad := strings.Repeat("x", size)
	seqs := make([]uint64, 0, n)
	var futs []natsjs.PubAckFuture
	for i := range n {
		ev, err := b.Build("test.event", 1, "a", fmt.Sprintf("t.%d", i%7), map[string]any{"i": i, "pad": pad})
		require.NoError(t, err)
		raw, err := json.Marshal(ev)
		require.NoError(t, err)
		m := nats.NewMsg(ev.Subject)
		m.Data = raw
		m.Header.Set("Nats-Msg-Id", ev.ID)
		f, err := l.JS.PublishMsgAsync(m)
		require.NoError(t, err)
		futs = append(futs, f)
		if len(futs) == 1000 || i == n-1 {
			for _, f := range futs {
				select {
				case a := <-f.Ok():
					seqs = append(seqs, a.Sequence)
				case err := <-f.Err():
					t.Fatal(err)
				}
			}
			futs = futs[:0]
		}
	}
	return seqs
}

// readBoth reads q from s by the direct path and by consumers (a subject
// filter of the whole stream makes a Read take the consumer path) and
// requires the same records; it returns them.
func readBoth(t *testing.T, s *Stream, q eventlog.Query) []eventlog.Record {
	t.Helper()
	ctx := context.Background()
	var direct, consumed []eventlog.Record
	require.NoError(t, s.Read(ctx, q, func(r eventlog.Record) error { direct = append(direct, r); return nil }))
	cq := q
	cq.Subjects = []string{"t.>"}
	require.False(t, directEligible(cq))
	require.NoError(t, s.Read(ctx, cq, func(r eventlog.Record) error { consumed = append(consumed, r); return nil }))
	require.Equal(t, len(consumed), len(direct))
	for i := range consumed {
		require.Equal(t, consumed[i].StreamSeq, direct[i].StreamSeq, "record %d", i)
		require.Equal(t, consumed[i].Event.ID, direct[i].Event.ID, "record %d", i)
		require.Equal(t, string(consumed[i].Event.Data), string(direct[i].Event.Data), "record %d", i)
	}
	return direct
}

func TestDirectReadMatchesConsumers(t *testing.T) {
	l, s := directLog(t, true)
	s.directBatch = 100 // many batches, two in flight
	seqs := publishN(t, l, 1050, 200)
	recs := readBoth(t, s, eventlog.Query{})
	require.Equal(t, seqs, logtest.Seqs(recs))
	require.Zero(t, s.directGiveUps.Load(), "%v", s.directLastGiveUp.Load())
	require.GreaterOrEqual(t, s.directBatches.Load(), uint64(11))

	for _, q := range []eventlog.Query{{FromSeq: 333}, {FromSeq: 333, ToSeq: 777}, {FromSeq: 10, Limit: 250}, {ToSeq: 1}, {FromSeq: 1050}} {
		got := readBoth(t, s, q)
		require.NotEmpty(t, got, "%+v", q)
		require.Equal(t, max(q.FromSeq, 1), got[0].StreamSeq, "%+v", q)
	}
	require.Zero(t, s.directGiveUps.Load(), "%v", s.directLastGiveUp.Load())
}

func TestDirectReadNumbersBatchesWithGaps(t *testing.T) {
	ctx := context.Background()
	l, s := directLog(t, true)
	s.directBatch = 64
	seqs := publishN(t, l, 600, 100)
	st, err := l.JS.Stream(ctx, "T")
	require.NoError(t, err)
	// The head (as MaxAge ages it out), single holes, a run across a batch
	// boundary, and the batch right before the last message.
	deleted := map[uint64]bool{}
	for _, seq := range []uint64{1, 2, 3, 100, 101, 128, 129, 130, 131, 132, 300, 598, 599} {
		require.NoError(t, st.DeleteMsg(ctx, seq))
		deleted[seq] = true
	}
	var want []uint64
	for _, seq := range seqs {
		if !deleted[seq] {
			want = append(want, seq)
		}
	}
	recs := readBoth(t, s, eventlog.Query{})
	require.Equal(t, want, logtest.Seqs(recs))
	require.Zero(t, s.directGiveUps.Load(), "gaps are numbered by a request with headers, not given up: %v", s.directLastGiveUp.Load())
	recs = readBoth(t, s, eventlog.Query{FromSeq: 2})
	require.Equal(t, want, logtest.Seqs(recs))
	require.Zero(t, s.directGiveUps.Load(), "%v", s.directLastGiveUp.Load())
}

func TestDirectReadFillsBatchesTheServerCutShort(t *testing.T) {
	l, s := directLog(t, true)
	s.directBatch, s.directBytes = 100, 20_000 // ~15 messages of ~1.3 KB per answer
	seqs := publishN(t, l, 700, 1200)
	recs := readBoth(t, s, eventlog.Query{})
	require.Equal(t, seqs, logtest.Seqs(recs))
	require.Zero(t, s.directGiveUps.Load(), "%v", s.directLastGiveUp.Load())
	require.Greater(t, s.directBatches.Load(), uint64(700/100*2), "holes filled by requests of their own")
}

func TestDirectReadFallsBackToConsumers(t *testing.T) {
	l, s := directLog(t, false) // no allow_direct: nobody answers a direct get
	seqs := publishN(t, l, 300, 50)
	recs := readBoth(t, s, eventlog.Query{})
	require.Equal(t, seqs, logtest.Seqs(recs))
	require.Equal(t, uint64(1), s.directGiveUps.Load())
	require.Contains(t, s.directLastGiveUp.Load(), "503")
}

// A stored message whose own headers look like the end of a batch (a
// Status and a Nats-Last-Sequence far ahead) must neither end a batch nor
// hide the messages after it, when a gap makes the reader ask for headers.
func TestDirectReadIgnoresStatusHeadersOfStoredMessages(t *testing.T) {
	ctx := context.Background()
	l, s := directLog(t, true)
	s.directBatch = 50
	seqs := publishN(t, l, 40, 50)
	b := eventlog.NewBuilder("forger")
	ev, err := b.Build("test.event", 1, "a", "t.forged", map[string]int{"i": -1})
	require.NoError(t, err)
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	m := nats.NewMsg("t.forged")
	m.Data = raw
	m.Header.Set("Status", "204")
	m.Header.Set("Description", "EOB")
	m.Header.Set("Nats-Last-Sequence", "1000000")
	a, err := l.JS.PublishMsg(ctx, m)
	require.NoError(t, err)
	seqs = append(seqs, a.Sequence)
	seqs = append(seqs, publishN(t, l, 40, 50)...)
	st, err := l.JS.Stream(ctx, "T")
	require.NoError(t, err)
	require.NoError(t, st.DeleteMsg(ctx, 5)) // a gap in the first batch: headers
	want := append(append([]uint64{}, seqs[:4]...), seqs[5:]...)

	recs := readBoth(t, s, eventlog.Query{})
	require.Equal(t, want, logtest.Seqs(recs))
	require.Equal(t, ev.ID, recs[39].Event.ID)
	require.Zero(t, s.directGiveUps.Load(), "the forged status is a record, not the end of a batch: %v", s.directLastGiveUp.Load())
}

func TestFollowCatchesUpByDirectReads(t *testing.T) {
	l, s := directLog(t, true)
	s.directBatch = 100
	seqs := publishN(t, l, 450, 50)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan uint64, 1000)
	done := make(chan error, 1)
	go func() {
		done <- s.Follow(ctx, eventlog.Query{FromSeq: 7}, func(r eventlog.Record) error { got <- r.StreamSeq; return nil })
	}()
	for _, want := range seqs[6:] {
		require.Equal(t, want, <-got)
	}
	live := publishN(t, l, 5, 50)
	for _, want := range live {
		require.Equal(t, want, <-got, "live records after the catch-up come from a consumer")
	}
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	require.GreaterOrEqual(t, s.directBatches.Load(), uint64(5))
	require.Zero(t, s.directGiveUps.Load(), "%v", s.directLastGiveUp.Load())
}

// A direct get nobody answers (here a subscriber that swallows it; in a
// deployment, a NATS permission that refuses the request) hands the read
// to consumers after directIdle.
func TestDirectReadFallsBackWhenNobodyAnswers(t *testing.T) {
	l, s := directLog(t, false)
	sub, err := l.Conn.Subscribe(s.directAPI(), func(*nats.Msg) {})
	require.NoError(t, err)
	defer func() { _ = sub.Unsubscribe() }()
	require.NoError(t, l.Conn.Flush())
	seqs := publishN(t, l, 120, 50)
	recs := readBoth(t, s, eventlog.Query{})
	require.Equal(t, seqs, logtest.Seqs(recs))
	require.Equal(t, uint64(1), s.directGiveUps.Load())
	require.Equal(t, "no answer", s.directLastGiveUp.Load())
}
