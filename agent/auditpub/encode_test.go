package auditpub

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
)

func TestChainMatchesEventlog(t *testing.T) {
	t.Parallel()
	texts := []string{"", "plain", "q\"uo\\te", "ctl\x00\x01\b\f\n\r\t\x1f", "<html>&", "bad\xffutf8", "line\u2028sep\u2029", "ünï©ødé 😀"}
	mine := NewChain(0, "")
	ref := eventlog.NewChainer(0, "")
	for i, s := range texts {
		data, err := json.Marshal(map[string]string{"statement": s})
		require.NoError(t, err)
		ev := eventlog.Event{ID: "id" + s, Type: "query", V: 1, Time: time.Date(2024, 1, 2, 3, 4, 5, 600*(i+1), time.UTC),
			Source: "agent " + s, Actor: s, Subject: "tollgate.audit.x", Data: data}
		a, b := ev, ev
		require.NoError(t, mine.Link(&a))
		require.NoError(t, ref.Next(&b))
		require.Equal(t, b, a, "text %q", s)
		want, err := eventlog.CanonicalBytes(&b)
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendEvent(nil, &a, false)))
		var back eventlog.Event
		require.NoError(t, eventlog.DecodeEvent(appendEvent(nil, &a, true), &back))
		require.Equal(t, a.Hash, back.Hash)
	}
	_, err := compactData([]byte(`{"a": 1}`))
	require.NoError(t, err)
	_, err = compactData([]byte(`{"a":`))
	require.Error(t, err)
}

func TestCompactData(t *testing.T) {
	for in, want := range map[string]string{
		`{"statement":"SELECT a FROM t WHERE b = 'x y'"}`: `{"statement":"SELECT a FROM t WHERE b = 'x y'"}`,
		`{"a": 1, "s":"q \" x"}`:                          `{"a":1,"s":"q \" x"}`,
		`{"s":"\\"} `:                                     `{"s":"\\"}`,
		`[1,2]`:                                           `[1,2]`,
	} {
		got, err := compactData([]byte(in))
		require.NoError(t, err, in)
		require.Equal(t, want, string(got), in)
	}
	for _, bad := range []string{`{"a":`, `{"s":"x`, "{\"s\":\"a\tb\"}", `{"s":"x"}}`} {
		_, err := compactData([]byte(bad))
		require.Error(t, err, bad)
	}
	q := []byte(`{"session_id":"s1","n":3,"statement":"SELECT abalance FROM pgbench_accounts WHERE aid = 1"}`)
	require.Zero(t, testing.AllocsPerRun(100, func() { _, _ = compactData(q) }))
}
