package jetstream_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
)

func TestAppendEncoded(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	l := openLog(t, jetstream.Config{})
	st := l.Audit.(*jetstream.Stream)
	b := eventlog.NewBuilder("agent")
	var evs []eventlog.Event
	var raw [][]byte
	for i := range 300 {
		ev, err := b.Build("query", 1, "alice", eventlog.AuditSubject("db", "alice", "s1", "query"), map[string]int{"n": i})
		require.NoError(t, err)
		j, err := json.Marshal(ev)
		require.NoError(t, err)
		evs, raw = append(evs, ev), append(raw, j)
	}
	require.NoError(t, st.AppendEncoded(ctx, evs[:100], raw[:100]))
	// A retried batch overlapping the first is stored once.
	require.NoError(t, st.AppendEncoded(ctx, evs, raw))
	var got []eventlog.Event
	require.NoError(t, st.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error {
		got = append(got, r.Event)
		return nil
	}))
	require.Len(t, got, 300)
	for i := range got {
		require.Equal(t, evs[i].ID, got[i].ID)
		require.JSONEq(t, string(evs[i].Data), string(got[i].Data))
	}

	big := evs[0]
	big.ID = "big"
	err := st.AppendEncoded(ctx, []eventlog.Event{big}, [][]byte{[]byte(`{"x":"` + strings.Repeat("a", eventlog.DefaultMaxEventSize) + `"}`)})
	require.ErrorIs(t, err, eventlog.ErrTooLarge)
	require.Error(t, st.AppendEncoded(ctx, evs[:2], raw[:1]), "lengths must match")

	// A subject outside the stream has no responder: unavailable.
	bad := evs[0]
	bad.ID, bad.Subject = "nostream", "nowhere.x"
	err = st.AppendEncoded(ctx, []eventlog.Event{bad}, raw[:1])
	require.ErrorIs(t, err, eventlog.ErrUnavailable)
}
