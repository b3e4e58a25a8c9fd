package jetstream

import (
	"context"
	"encoding/base64"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/logtest"
)

// TestLastSubjectSeqAsksTheLeader checks that the last record on a
// subject, and a retried conditional append recognizing itself, are read
// through the leader's message get, never a direct get (which a replica
// not yet holding the newest records may answer).
func TestLastSubjectSeqAsksTheLeader(t *testing.T) {
	l, s := directLog(t, true)
	ctx := context.Background()
	seqs := publishN(t, l, 30, 10) // event i on t.<i%7>

	var direct, msgGet atomic.Int64
	count := func(n *atomic.Int64) nats.MsgHandler { return func(*nats.Msg) { n.Add(1) } }
	for subj, n := range map[string]*atomic.Int64{
		"$JS.API.DIRECT.GET.T": &direct, "$JS.API.DIRECT.GET.T.>": &direct, "$JS.API.STREAM.MSG.GET.T": &msgGet,
	} {
		sub, err := l.Conn.Subscribe(subj, count(n))
		require.NoError(t, err)
		t.Cleanup(func() { _ = sub.Unsubscribe() })
	}
	require.NoError(t, l.Conn.Flush())

	for _, tc := range []struct {
		subject string
		want    uint64
	}{
		{"t.3", seqs[24]}, // i = 24 is the last with i%7 == 3
		{"t.>", seqs[29]},
		{"t.none", 0},
	} {
		got, err := s.LastSubjectSeq(ctx, tc.subject)
		require.NoError(t, err, tc.subject)
		require.Equal(t, tc.want, got, tc.subject)
	}

	b := eventlog.NewBuilder("test")
	ev, err := b.Build("test.event", 1, "a", "t.new", map[string]any{"n": 1})
	require.NoError(t, err)
	first, err := s.Append(ctx, ev, eventlog.ExpectLastSubjectSeq(0))
	require.NoError(t, err)
	again, err := s.Append(ctx, ev, eventlog.ExpectLastSubjectSeq(0))
	require.NoError(t, err, "a retried conditional append is its own first try")
	require.Equal(t, first, again)

	require.NoError(t, l.Conn.Flush())
	require.Zero(t, direct.Load(), "direct gets")
	require.GreaterOrEqual(t, msgGet.Load(), int64(4), "message gets")
}

// TestDecodeMsgGet reads the stream message get responses JetStream sends.
func TestDecodeMsgGet(t *testing.T) {
	hdrs := base64.StdEncoding.EncodeToString([]byte("NATS/1.0\r\nNats-Msg-Id: ev-1\r\n\r\n"))
	for _, tc := range []struct {
		name    string
		data    string
		want    storedMsg
		found   bool
		wantErr string
	}{
		{"with headers", `{"message":{"subject":"t.1","seq":42,"hdrs":"` + hdrs + `","data":"e30="}}`, storedMsg{seq: 42, msgID: "ev-1"}, true, ""},
		{"sourced", `{"message":{"seq":9,"hdrs":"` + base64.StdEncoding.EncodeToString([]byte("NATS/1.0\r\nNats-Msg-Id: ev-2\r\nNats-Stream-Source: TOLLGATE_AUDIT:abc 17 > > audit.x\r\n\r\n")) + `"}}`,
			storedMsg{seq: 9, msgID: "ev-2", source: "TOLLGATE_AUDIT:abc 17 > > audit.x"}, true, ""},
		{"without headers", `{"message":{"subject":"t.1","seq":7,"data":"e30="}}`, storedMsg{seq: 7}, true, ""},
		{"no message", `{"error":{"code":404,"err_code":10037,"description":"no message found"}}`, storedMsg{}, false, ""},
		{"other error", `{"error":{"code":503,"err_code":10008,"description":"JetStream system temporarily unavailable"}}`, storedMsg{}, false, "temporarily unavailable"},
		{"neither", `{}`, storedMsg{}, false, "invalid"},
		{"not JSON", `nope`, storedMsg{}, false, "stream message get response"},
		{"bad headers", `{"message":{"seq":1,"hdrs":"` + base64.StdEncoding.EncodeToString([]byte("HTTP/1.1\r\n\r\n")) + `"}}`, storedMsg{}, false, "headers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, found, err := decodeMsgGet([]byte(tc.data))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.found, found)
			require.Equal(t, tc.want, m)
		})
	}
}

// TestMsgGetAsksAgainWhenUnanswered checks that a message get nobody
// answers (a cluster between leaders drops it) is asked again, and that
// one with no responders at all ends in an error, not a wait.
func TestMsgGetAsksAgainWhenUnanswered(t *testing.T) {
	l, _ := directLog(t, true)
	ctx := context.Background()
	js, err := natsjs.NewWithAPIPrefix(l.Conn, "$TEST.API")
	require.NoError(t, err)

	_, _, err = msgGet(ctx, js, "S", msgGetRequest{LastFor: "s.1"})
	require.ErrorIs(t, err, nats.ErrNoResponders)

	var asked atomic.Int64
	sub, err := l.Conn.Subscribe("$TEST.API.STREAM.MSG.GET.S", func(m *nats.Msg) {
		if asked.Add(1) > 1 { // the first request is lost
			_ = m.Respond([]byte(`{"message":{"subject":"s.1","seq":9}}`))
		}
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	require.NoError(t, l.Conn.Flush())

	m, found, err := msgGet(ctx, js, "S", msgGetRequest{LastFor: "s.1"})
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, uint64(9), m.seq)
	require.Equal(t, int64(2), asked.Load())
}

// TestLeaderHolds checks the question a drained consumer's read asks the
// leader: is there a record at the cursor or later, up to its upper
// bound, on its subjects, inside its time bounds?
func TestLeaderHolds(t *testing.T) {
	l, s := directLog(t, true)
	seqs := publishN(t, l, 30, 10) // event i on t.<i%7>
	stored := func(seq uint64) time.Time {
		m, found, err := msgGet(context.Background(), l.JS, "T", msgGetRequest{Seq: seq})
		require.NoError(t, err)
		require.True(t, found)
		return m.time
	}
	t0, t29 := stored(seqs[0]), stored(seqs[29])
	for _, tc := range []struct {
		name        string
		q           eventlog.Query
		next, upper uint64
		n           int
		want        bool
	}{
		{"a record left on the subject", eventlog.Query{Subjects: []string{"t.3"}}, seqs[24], seqs[29], 5, true},
		{"past the subject's last", eventlog.Query{Subjects: []string{"t.3"}}, seqs[24] + 1, seqs[29], 5, false},
		{"the subject's next is past upper", eventlog.Query{Subjects: []string{"t.3"}}, seqs[18], seqs[23], 3, false},
		{"on the second subject", eventlog.Query{Subjects: []string{"t.3", "t.4"}}, seqs[25], seqs[29], 5, true},
		{"no subjects: the last record", eventlog.Query{}, seqs[29], seqs[29], 29, true},
		{"no subjects: past upper", eventlog.Query{}, seqs[29] + 1, seqs[29], 30, false},
		{"no upper", eventlog.Query{}, 1, 0, 0, false},
		{"stored after ToTime", eventlog.Query{ToTime: t0.Add(-time.Nanosecond)}, 1, seqs[29], 0, false},
		{"stored inside ToTime", eventlog.Query{ToTime: t29}, seqs[29], seqs[29], 29, true},
		{"FromTime before all, nothing read", eventlog.Query{FromTime: t0}, 1, seqs[29], 0, true},
		{"FromTime after all, nothing read", eventlog.Query{FromTime: t29.Add(time.Nanosecond)}, 1, seqs[29], 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &cursor{q: tc.q, next: tc.next, upper: tc.upper, n: tc.n}
			got, err := s.leaderHolds(context.Background(), c)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestConformanceAsIfReplicated runs the stream conformance suite with
// every drained read asking the leader (as on a replicated stream): the
// question must never hold a complete read back.
func TestConformanceAsIfReplicated(t *testing.T) {
	t.Parallel()
	logtest.Run(t, func(t *testing.T, name string) eventlog.Stream {
		l := embeddedLog(t)
		st := l.Control.(*Stream)
		if name == eventlog.AuditStream {
			st = l.Audit.(*Stream)
		}
		st.replicated = true
		t.Cleanup(func() { require.Zero(t, st.behindRestarts.Load(), "consumers recreated as behind on one server") })
		return st
	})
}

// TestReadGoesOnWhenTheLeaderHoldsMore checks what a read does when the
// leader holds a record its drained consumer did not deliver: it goes on
// with a new consumer from what was delivered, delivering nothing twice.
func TestReadGoesOnWhenTheLeaderHoldsMore(t *testing.T) {
	l, s := directLog(t, true)
	seqs := publishN(t, l, 30, 10) // event i on t.<i%7>
	s.replicated = true
	asked := 0
	s.holds = func(ctx context.Context, c *cursor) (bool, error) {
		asked++
		if asked <= 2 { // a consumer on a replica catching up, twice
			return true, nil
		}
		return s.leaderHolds(ctx, c)
	}
	var got []uint64
	require.NoError(t, s.Read(context.Background(), eventlog.Query{Subjects: []string{"t.3"}}, func(r eventlog.Record) error {
		got = append(got, r.StreamSeq)
		return nil
	}))
	require.Equal(t, []uint64{seqs[3], seqs[10], seqs[17], seqs[24]}, got)
	require.Equal(t, uint64(2), s.behindRestarts.Load())
	require.Equal(t, 3, asked)

	s.holds = func(context.Context, *cursor) (bool, error) { return false, eventlog.ErrUnavailable }
	err := s.Read(context.Background(), eventlog.Query{Subjects: []string{"t.3"}}, func(eventlog.Record) error { return nil })
	require.ErrorIs(t, err, eventlog.ErrUnavailable, "no answer from the leader is no complete read")
}
