package format

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestAppendExtendsDst: every formatter appends to what dst holds, and
// leaves it as it was on an error.
func TestAppendExtendsDst(t *testing.T) {
	t.Parallel()
	ev := samples()[schemas.TypeQuery]
	bad := ev
	bad.Data = json.RawMessage(`{"n":"nope"`)
	for _, f := range []Formatter{Native{}, OCSF{}, ECS{}} {
		want, err := f.Format(&ev)
		require.NoError(t, err)
		got, err := f.Append([]byte("prefix"), &ev)
		require.NoError(t, err)
		require.Equal(t, "prefix"+string(want), string(got), f.Name())
		got, err = f.Append([]byte("prefix"), &bad)
		require.Error(t, err, f.Name())
		require.Equal(t, "prefix", string(got), f.Name())
	}
}

// TestNativeEdges: what the canonical form cannot write goes through the
// encoder, with its output or its error.
func TestNativeEdges(t *testing.T) {
	t.Parallel()
	base := samples()[schemas.TypeQuery]
	cases := map[string]func(ev *eventlog.Event){
		"spaced data":   func(ev *eventlog.Event) { ev.Data = json.RawMessage(` { "n" : 1 } `) },
		"nil data":      func(ev *eventlog.Event) { ev.Data = nil },
		"empty data":    func(ev *eventlog.Event) { ev.Data = json.RawMessage{} },
		"invalid data":  func(ev *eventlog.Event) { ev.Data = json.RawMessage(`{"n":`) },
		"html in data":  func(ev *eventlog.Event) { ev.Data = json.RawMessage(`{"s":"<a>&\u2028"}`) },
		"year 10000":    func(ev *eventlog.Event) { ev.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"year -1":       func(ev *eventlog.Event) { ev.Time = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) },
		"zone +23:59":   func(ev *eventlog.Event) { ev.Time = ev.Time.In(time.FixedZone("x", 23*3600+59*60)) },
		"zone -24:00":   func(ev *eventlog.Event) { ev.Time = ev.Time.In(time.FixedZone("x", -24*3600)) },
		"zero time":     func(ev *eventlog.Event) { ev.Time = time.Time{} },
		"strings":       func(ev *eventlog.Event) { ev.ID, ev.Actor, ev.Prev, ev.Hash = "<&>", "\xff", "\u2029", "\x01" },
		"no chain":      func(ev *eventlog.Event) { ev.Seq, ev.Prev, ev.Hash = 0, "", "" },
		"hash, no seq":  func(ev *eventlog.Event) { ev.Seq = 0 },
		"nanoseconds":   func(ev *eventlog.Event) { ev.Time = ev.Time.Add(123456789) },
		"local offset":  func(ev *eventlog.Event) { ev.Time = ev.Time.In(time.FixedZone("x", -3*3600-30*60)) },
		"empty envelop": func(ev *eventlog.Event) { *ev = eventlog.Event{} },
	}
	for name, mod := range cases {
		ev := base
		mod(&ev)
		checkNative(t, name, &ev)
	}
}

// checkNative compares Native.Append with the encoder it stands for.
func checkNative(t *testing.T, name string, ev *eventlog.Event) {
	t.Helper()
	want, werr := nativeEncode(nil, ev)
	got, err := Native{}.Append(nil, ev)
	require.Equal(t, werr == nil, err == nil, "%s: %v / %v", name, err, werr)
	if werr != nil {
		require.Equal(t, werr.Error(), err.Error(), name)
		return
	}
	require.Equal(t, string(want), string(got), name)
}

func FuzzNative(f *testing.F) {
	ev := samples()[schemas.TypeQuery]
	f.Add(ev.ID, ev.Type, ev.Actor, ev.Subject, []byte(ev.Data), ev.Seq, ev.Prev, ev.Hash, ev.Time.UnixNano(), 0)
	f.Add("<&>", "x", "", "s", []byte(` {"a" : [1, 2]} `), uint64(0), "", "", int64(-1)<<62, 3600)
	f.Add("\xff", "\u2028", "a", "", []byte(`{"a":`), uint64(1), "p", "h", int64(0), -86400)
	f.Fuzz(func(t *testing.T, id, typ, actor, subject string, data []byte, seq uint64, prev, hash string, nanos int64, offset int) {
		ev := eventlog.Event{ID: id, Type: typ, V: 1, Time: time.Unix(0, nanos).In(time.FixedZone("z", offset%(48*3600))),
			Source: "agent-1", Actor: actor, Subject: subject, Data: data, Seq: seq, Prev: prev, Hash: hash}
		checkNative(t, "fuzz", &ev)
	})
}

// canonical re-encodes a document through encoding/json (objects as maps:
// keys sorted, strings escaped as json.Marshal does, numbers kept). U+FFFD
// is written as its escape on both sides: json.Marshal writes invalid
// UTF-8 as \ufffd, which reads back as the character itself.
func canonical(t testing.TB, doc []byte) []byte {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var v any
	require.NoError(t, d.Decode(&v))
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return replacementEscaped(b)
}

func replacementEscaped(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte("\uFFFD"), []byte(`\ufffd`))
}

// roundTrip is what s reads back as once written as a JSON string.
func roundTrip(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}

// FuzzOCSFQuery: the hand-written OCSF document of a query is what
// json.Marshal writes for the same maps (sorted keys, its escaping), and
// carries the query's fields.
func FuzzOCSFQuery(f *testing.F) {
	f.Add("s1", uint64(1), "extended", "SELECT * FROM t WHERE a > $1 AND b = '<&>'", "q1", "", "text", "42", false, "roach", "alice", "")
	f.Add("\xff", uint64(0), "", "", "", "p\u2028", "binary", "", true, "~2e", "none", "x")
	f.Fuzz(func(t *testing.T, session string, n uint64, kind, stmt, name, portal, pformat, pvalue string, truncated bool, db, user, actor string) {
		q := schemas.Query{SessionID: session, N: n, Kind: kind, Statement: stmt, StatementName: name, Portal: portal, Truncated: truncated, SHA256: pvalue}
		if pformat != "" {
			q.Params = []schemas.QueryParam{{Format: pformat, Value: pvalue}, {Format: "null"}}
		}
		raw, err := json.Marshal(q)
		require.NoError(t, err)
		ev := eventlog.Event{ID: "id<1>", Type: schemas.TypeQuery, V: 1, Time: sampleTime, Source: "agent-1", Actor: actor,
			Subject: eventlog.AuditSubject(db, user, session, schemas.TypeQuery), Data: raw, Seq: 1 + n%1000, Prev: pvalue, Hash: stmt}
		doc, err := OCSF{}.Format(&ev)
		require.NoError(t, err)
		require.Equal(t, string(canonical(t, doc)), string(replacementEscaped(doc)))
		var got struct {
			QueryInfo struct {
				Name        string `json:"name"`
				QueryString string `json:"query_string"`
			} `json:"query_info"`
			Unmapped struct {
				Kind   string                `json:"kind"`
				Portal string                `json:"portal"`
				Params []schemas.QueryParam  `json:"params"`
				Chain  struct{ Hash string } `json:"chain"`
			} `json:"unmapped"`
		}
		require.NoError(t, json.Unmarshal(doc, &got))
		// Decoding the data already replaced invalid UTF-8: compare with
		// what the data reads back as.
		back, err := schemas.DecodeAs[schemas.Query](ev)
		require.NoError(t, err)
		require.Equal(t, back.Statement, got.QueryInfo.QueryString)
		require.Equal(t, back.StatementName, got.QueryInfo.Name)
		require.Equal(t, back.Kind, got.Unmapped.Kind)
		require.Equal(t, back.Portal, got.Unmapped.Portal)
		require.Equal(t, roundTrip(stmt), got.Unmapped.Chain.Hash)
		require.Len(t, got.Unmapped.Params, len(back.Params))
		for i := range back.Params {
			require.Equal(t, back.Params[i], got.Unmapped.Params[i])
		}
	})
}
