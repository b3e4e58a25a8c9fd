package jetstream_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
)

// largeBatch builds n audit events and their JSON.
func largeBatch(t *testing.T, n int) ([]eventlog.Event, [][]byte) {
	b := eventlog.NewBuilder("agent")
	evs := make([]eventlog.Event, 0, n)
	raw := make([][]byte, 0, n)
	for i := range n {
		ev, err := b.Build("query", 1, "alice", eventlog.AuditSubject("db", "alice", "s1", "query"), map[string]int{"n": i})
		require.NoError(t, err)
		j, err := json.Marshal(ev)
		require.NoError(t, err)
		evs, raw = append(evs, ev), append(raw, j)
	}
	return evs, raw
}

// readIDs returns the ids stored in st, in order.
func readIDs(t *testing.T, st eventlog.Stream) []string {
	var ids []string
	require.NoError(t, st.Read(ctxT(t), eventlog.Query{}, func(r eventlog.Record) error {
		ids = append(ids, r.Event.ID)
		return nil
	}))
	return ids
}

// TestAppendBatchLarge: one AppendBatch of far more events than the
// client's async publish window (PublishAsyncMaxPending) stores them all,
// in order, and returns every sequence.
func TestAppendBatchLarge(t *testing.T) {
	t.Parallel()
	l := openLog(t, jetstream.Config{})
	const n = 10000
	evs, _ := largeBatch(t, n)
	seqs, err := l.Audit.AppendBatch(ctxT(t), evs)
	require.NoError(t, err)
	require.Len(t, seqs, n)
	for i, s := range seqs {
		require.Equal(t, uint64(i+1), s, "event %d", i)
	}
	ids := readIDs(t, l.Audit)
	require.Len(t, ids, n)
	for i := range ids {
		require.Equal(t, evs[i].ID, ids[i], "event %d", i)
	}
}

// TestAppendEncodedLarge: one AppendEncoded of more events than the ack
// queue holds stores them all, in order.
func TestAppendEncodedLarge(t *testing.T) {
	t.Parallel()
	l := openLog(t, jetstream.Config{})
	const n = 20000
	evs, raw := largeBatch(t, n)
	st := l.Audit.(*jetstream.Stream)
	require.NoError(t, st.AppendEncoded(ctxT(t), evs, raw))
	ids := readIDs(t, l.Audit)
	require.Len(t, ids, n)
	for i := range ids {
		require.Equal(t, evs[i].ID, ids[i], "event %d", i)
	}
}
