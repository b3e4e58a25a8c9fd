package jetstream_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
)

func chainedEvents(t *testing.T, src string, n int) []eventlog.Event {
	t.Helper()
	c := eventlog.NewChainer(0, "")
	b := eventlog.NewBuilder(src)
	var out []eventlog.Event
	for i := range n {
		ev, err := b.Build("query", 1, "alice", eventlog.AuditSubject("roach", "alice", "s1", "query"), map[string]any{"sql": fmt.Sprintf("select %d", i)})
		require.NoError(t, err)
		require.NoError(t, c.Next(&ev))
		out = append(out, ev)
	}
	return out
}

func TestVerifyJetStream(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	tests := []struct {
		name      string
		tamper    func(t *testing.T, l *jetstream.Log, evs []eventlog.Event) []eventlog.Event
		kind      string
		streamSeq uint64
	}{
		{"clean", nil, "", 0},
		{"missing", func(t *testing.T, l *jetstream.Log, evs []eventlog.Event) []eventlog.Event {
			// The stream denies deletes: an event that never arrived
			// (or a copy of the stream without it) looks the same.
			return append(append([]eventlog.Event{}, evs[:3]...), evs[4:]...)
		}, eventlog.ProblemMissing, 4},
		{"altered raw publish", func(t *testing.T, l *jetstream.Log, evs []eventlog.Event) []eventlog.Event {
			_, err := l.Audit.AppendBatch(ctx, evs[:3])
			require.NoError(t, err)
			bad := evs[3]
			bad.Data = json.RawMessage(`{"sql":"select nothing"}`)
			raw, err := json.Marshal(bad)
			require.NoError(t, err)
			_, err = l.JS.Publish(ctx, bad.Subject, raw)
			require.NoError(t, err)
			_, err = l.Audit.AppendBatch(ctx, evs[4:])
			require.NoError(t, err)
			return nil
		}, eventlog.ProblemAltered, 4},
		{"swapped: stored late, linked", func(t *testing.T, l *jetstream.Log, evs []eventlog.Event) []eventlog.Event {
			evs = append([]eventlog.Event{}, evs...)
			evs[2], evs[3] = evs[3], evs[2]
			return evs
		}, eventlog.ProblemLate, 4},
		{"reordered", func(t *testing.T, l *jetstream.Log, evs []eventlog.Event) []eventlog.Event {
			evs = append([]eventlog.Event{}, evs...)
			evs[1], evs[3] = evs[3], evs[1]
			return evs
		}, eventlog.ProblemReordered, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := openLog(t, jetstream.Config{})
			evs := chainedEvents(t, "agent-1", 6)
			if tt.tamper != nil {
				evs = tt.tamper(t, l, evs)
			}
			if evs != nil {
				_, err := l.Audit.AppendBatch(ctx, evs)
				require.NoError(t, err)
			}
			rep, err := eventlog.Verify(ctx, l.Audit, eventlog.Query{})
			require.NoError(t, err)
			if tt.kind == "" {
				require.True(t, rep.OK(), "%+v", rep.Problems)
				require.Equal(t, uint64(6), rep.Checked["agent-1"])
				return
			}
			if tt.kind == eventlog.ProblemLate {
				require.True(t, rep.OK(), "%+v", rep.Problems)
				require.Len(t, rep.Late, 1, "%+v", rep.Late)
				require.Equal(t, tt.streamSeq, rep.Late[0].StreamSeq, "%+v", rep.Late[0])
				return
			}
			require.NotEmpty(t, rep.Problems)
			require.Equal(t, tt.kind, rep.First.Kind, "%+v", rep.First)
			require.Equal(t, tt.streamSeq, rep.First.StreamSeq, "%+v", rep.First)
			require.Equal(t, "agent-1", rep.First.Source)
		})
	}
}

// TestAppendKeepsDataBytes: an event appended with Append (not the
// pre-encoded path) whose data holds "<", ">" and "&" unescaped, as the
// agent writes them, is stored byte for byte: its hash still verifies.
func TestAppendKeepsDataBytes(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	l := openLog(t, jetstream.Config{})
	ev := chainedEvents(t, "agent-1", 1)[0]
	ev.Data = json.RawMessage(`{"sql":"select 1 where 2 > 1 and 'a<b' <> 'x&y'"}`)
	ev.Seq, ev.Prev, ev.Hash = 0, "", ""
	require.NoError(t, eventlog.NewChainer(0, "").Next(&ev))
	_, err := l.Audit.Append(ctx, ev)
	require.NoError(t, err)
	rep, err := eventlog.Verify(ctx, l.Audit, eventlog.Query{})
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep.Problems)
}
