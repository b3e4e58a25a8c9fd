package eventlog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
)

func TestCanonicalBytes(t *testing.T) {
	t.Parallel()
	ev := eventlog.Event{
		ID: "01J00000000000000000000000", Type: "query", V: 1,
		Time:   time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC),
		Source: "agent-1", Subject: "tollgate.audit.db.u.s.query",
		Data: json.RawMessage("{ \"sql\" : \"select 1 < 2 &\\n\",\n \"n\": [1, 2] }"),
		Seq:  3, Prev: "aa", Hash: "ignored",
	}
	b, err := eventlog.CanonicalBytes(&ev)
	require.NoError(t, err)
	require.Equal(t, `{"id":"01J00000000000000000000000","type":"query","v":1,"time":"2026-01-02T03:04:05.6Z",`+
		`"source":"agent-1","subject":"tollgate.audit.db.u.s.query","data":{"sql":"select 1 < 2 &\n","n":[1,2]},"seq":3,"prev":"aa"}`,
		string(b))
	h1, err := eventlog.EventHash(&ev)
	require.NoError(t, err)
	ev.Hash = "other"
	h2, err := eventlog.EventHash(&ev)
	require.NoError(t, err)
	require.Equal(t, h1, h2, "the hash field is not hashed")
	require.Len(t, h1, 64)

	ev.Data = json.RawMessage(`{bad`)
	_, err = eventlog.CanonicalBytes(&ev)
	require.Error(t, err)
}

// chained makes n chained audit events of source src.
func chained(t *testing.T, src string, n int) []eventlog.Event {
	t.Helper()
	c := eventlog.NewChainer(0, "")
	b := eventlog.NewBuilder(src)
	var out []eventlog.Event
	for i := range n {
		ev, err := b.Build("query", 1, "alice", eventlog.AuditSubject("db", "alice", "s1", "query"), map[string]any{"sql": fmt.Sprintf("select %d", i)})
		require.NoError(t, err)
		require.NoError(t, c.Next(&ev))
		require.Equal(t, uint64(i+1), ev.Seq)
		out = append(out, ev)
	}
	seq, hash := c.Last()
	require.Equal(t, uint64(n), seq)
	require.Equal(t, out[n-1].Hash, hash)
	return out
}

// interleave merges a and b alternately.
func interleave(a, b []eventlog.Event) []eventlog.Event {
	var out []eventlog.Event
	for i := 0; i < len(a) || i < len(b); i++ {
		if i < len(a) {
			out = append(out, a[i])
		}
		if i < len(b) {
			out = append(out, b[i])
		}
	}
	return out
}

func TestChainerContinues(t *testing.T) {
	t.Parallel()
	evs := chained(t, "agent-1", 2)
	c := eventlog.NewChainer(evs[1].Seq, evs[1].Hash)
	ev := eventlog.Event{ID: "x", Type: "query", Source: "agent-1", Subject: "s", Data: json.RawMessage(`{}`)}
	require.NoError(t, c.Next(&ev))
	require.Equal(t, uint64(3), ev.Seq)
	require.Equal(t, evs[1].Hash, ev.Prev)
}

func TestVerifyMemlog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := chained(t, "agent-1", 8)
	b := chained(t, "agent-2", 8)

	type want struct {
		kind      string
		streamSeq uint64
		source    string
		from, to  uint64
	}
	tests := []struct {
		name  string
		evs   func() []eventlog.Event
		q     eventlog.Query
		wants []want
		late  []want
	}{
		{"clean", func() []eventlog.Event { return interleave(a, b) }, eventlog.Query{}, nil, nil},
		{"from the middle", func() []eventlog.Event { return interleave(a, b) }, eventlog.Query{FromSeq: 7}, nil, nil},
		{"missing", func() []eventlog.Event {
			return append(append(append([]eventlog.Event{}, a[:3]...), a[4:]...), b...)
		}, eventlog.Query{}, []want{{eventlog.ProblemMissing, 4, "agent-1", 4, 4}}, nil},
		{"altered data", func() []eventlog.Event {
			evs := append([]eventlog.Event{}, a...)
			evs[5].Data = json.RawMessage(`{"sql":"drop table x"}`)
			return evs
		}, eventlog.Query{}, []want{{eventlog.ProblemAltered, 6, "agent-1", 6, 6}}, nil},
		{"altered and rehashed", func() []eventlog.Event {
			evs := append([]eventlog.Event{}, a...)
			evs[5].Data = json.RawMessage(`{"sql":"drop table x"}`)
			h, err := eventlog.EventHash(&evs[5])
			require.NoError(t, err)
			evs[5].Hash = h
			return evs
		}, eventlog.Query{}, []want{{eventlog.ProblemAltered, 7, "agent-1", 7, 7}}, nil},
		{"stored late, in order and linked (a retried publish)", func() []eventlog.Event {
			evs := append([]eventlog.Event{}, b[:2]...)
			evs = append(evs, a...)
			evs[4], evs[5] = evs[5], evs[4]
			return append(evs, b[2:]...)
		}, eventlog.Query{}, nil, []want{{eventlog.ProblemLate, 6, "agent-1", 3, 3}}},
		{"a late run of two", func() []eventlog.Event {
			evs := append([]eventlog.Event{}, a[:2]...)
			evs = append(evs, a[4:6]...)
			evs = append(evs, a[2:4]...)
			return append(append(evs, a[6:]...), b...)
		}, eventlog.Query{}, nil, []want{{eventlog.ProblemLate, 6, "agent-1", 3, 4}}},
		{"reordered", func() []eventlog.Event {
			evs := append([]eventlog.Event{}, b[:2]...)
			evs = append(evs, a...)
			evs[4], evs[6] = evs[6], evs[4]
			return evs
		}, eventlog.Query{}, []want{{eventlog.ProblemReordered, 6, "agent-1", 4, 4}, {eventlog.ProblemReordered, 7, "agent-1", 3, 3}}, nil},
		{"reordered after one in order", func() []eventlog.Event {
			evs := append([]eventlog.Event{}, a[:2]...)
			evs = append(evs, a[5], a[2], a[4], a[3])
			return append(append(evs, a[6:]...), b...)
		}, eventlog.Query{}, []want{{eventlog.ProblemReordered, 5, "agent-1", 3, 3}, {eventlog.ProblemReordered, 5, "agent-1", 5, 5},
			{eventlog.ProblemReordered, 6, "agent-1", 4, 4}}, nil},
		{"a late event forged and rehashed", func() []eventlog.Event {
			evs := append([]eventlog.Event{}, b[:2]...)
			evs = append(evs, a...)
			evs[4], evs[5] = evs[5], evs[4]
			evs[5].Data = json.RawMessage(`{"sql":"select nothing"}`)
			h, err := eventlog.EventHash(&evs[5])
			require.NoError(t, err)
			evs[5].Hash = h
			return evs
		}, eventlog.Query{}, []want{{eventlog.ProblemAltered, 6, "agent-1", 4, 4}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := memlog.New(eventlog.AuditStream)
			evs := tt.evs()
			_, err := st.AppendBatch(ctx, evs)
			require.NoError(t, err)
			_, err = st.Append(ctx, eventlog.Event{ID: "plain", Type: "x", Subject: "s", Data: json.RawMessage(`{}`)})
			require.NoError(t, err)
			rep, err := eventlog.Verify(ctx, st, tt.q)
			require.NoError(t, err)
			require.Equal(t, uint64(1), rep.Unchained)
			require.Len(t, rep.Late, len(tt.late), "%+v", rep.Late)
			for i, w := range tt.late {
				p := rep.Late[i]
				require.Equal(t, w, want{p.Kind, p.StreamSeq, p.Source, p.From, p.To}, "%+v", p)
				require.NotEmpty(t, p.Detail)
			}
			if len(tt.wants) == 0 {
				require.True(t, rep.OK(), "%+v", rep.Problems)
				require.Nil(t, rep.First)
				if tt.q.FromSeq == 0 {
					require.Equal(t, map[string]uint64{"agent-1": 8, "agent-2": 8}, rep.Checked)
				}
				return
			}
			require.Len(t, rep.Problems, len(tt.wants), "%+v", rep.Problems)
			for i, w := range tt.wants {
				p := rep.Problems[i]
				require.Equal(t, w.kind, p.Kind, "%+v", p)
				require.Equal(t, w.streamSeq, p.StreamSeq, "%+v", p)
				require.Equal(t, w.source, p.Source)
				require.Equal(t, [2]uint64{w.from, w.to}, [2]uint64{p.From, p.To}, "%+v", p)
				require.NotEmpty(t, p.Detail)
			}
			require.Equal(t, rep.Problems[0], *rep.First)
		})
	}
}
