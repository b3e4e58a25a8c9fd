package eventlog_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
)

// referenceCanonical is the canonical form written with encoding/json, as
// CanonicalBytes documents it: the allocation-light AppendJSON must match
// it byte for byte.
func referenceCanonical(t *testing.T, ev eventlog.Event) []byte {
	t.Helper()
	ev.Hash = ""
	var data bytes.Buffer
	require.NoError(t, json.Compact(&data, ev.Data))
	ev.Data = data.Bytes()
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(&ev))
	return bytes.TrimSuffix(out.Bytes(), []byte("\n"))
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	texts := []string{"", "plain", "q\"uo\\te", "ctl\x00\x01\b\f\n\r\t\x1f", "<html>&", "bad\xffutf8", "line\u2028sep\u2029", "ünï©ødé 😀"}
	c := eventlog.NewChainer(0, "")
	for i, s := range texts {
		data, err := json.Marshal(map[string]string{"statement": s})
		require.NoError(t, err)
		ev := eventlog.Event{ID: "id" + s, Type: "query", V: 1, Time: time.Date(2024, 1, 2, 3, 4, 5, 600*(i+1), time.UTC),
			Source: "agent " + s, Actor: s, Subject: "tollgate.audit.x", Data: append([]byte(" "), data...)}
		require.NoError(t, c.Next(&ev))
		want := referenceCanonical(t, ev)
		got, err := eventlog.CanonicalBytes(&ev)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "text %q", s)
		require.Equal(t, string(want), string(eventlog.AppendJSON(nil, &ev, false)))
		h, err := eventlog.EventHash(&ev)
		require.NoError(t, err)
		require.Equal(t, ev.Hash, h)
		var back eventlog.Event
		require.NoError(t, eventlog.DecodeEvent(eventlog.AppendJSON(nil, &ev, true), &back))
		require.Equal(t, ev.Hash, back.Hash)
	}
}

func TestCompactData(t *testing.T) {
	for in, want := range map[string]string{
		`{"statement":"SELECT a FROM t WHERE b = 'x y'"}`: `{"statement":"SELECT a FROM t WHERE b = 'x y'"}`,
		`{"a": 1, "s":"q \" x"}`:                          `{"a":1,"s":"q \" x"}`,
		`{"s":"\\"} `:                                     `{"s":"\\"}`,
		`[1,2]`:                                           `[1,2]`,
	} {
		got, err := eventlog.CompactData([]byte(in))
		require.NoError(t, err, in)
		require.Equal(t, want, string(got), in)
	}
	for _, bad := range []string{`{"a":`, `{"s":"x`, "{\"s\":\"a\tb\"}", `{"s":"x"}}`} {
		_, err := eventlog.CompactData([]byte(bad))
		require.Error(t, err, bad)
	}
	q := []byte(`{"session_id":"s1","n":3,"statement":"SELECT abalance FROM pgbench_accounts WHERE aid = 1"}`)
	require.Zero(t, testing.AllocsPerRun(100, func() { _, _ = eventlog.CompactData(q) }))
}
