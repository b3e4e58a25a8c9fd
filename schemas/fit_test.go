package schemas

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
)

const fitMax = 48 << 10

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// requireValid checks data validates as the data of a typ event (sample's
// envelope).
func requireValid(t *testing.T, typ string, data json.RawMessage) {
	t.Helper()
	ev := sample(t, typ)
	ev.Data = data
	require.NoError(t, testValidator(t).Validate(&ev))
}

func TestFitLeavesSmallDataAlone(t *testing.T) {
	t.Parallel()
	data := json.RawMessage(`{"session_id":"s","n":1,"kind":"simple","statement":"select 1"}`)
	got, err := Fit(TypeQuery, 1, data, fitMax)
	require.NoError(t, err)
	require.Equal(t, string(data), string(got))
}

// TestFitQueryNamesTextsParams: a 100 KiB statement name, a large
// statement and large parameters are cut to fit, flagged, and hashed (the
// statement, and each cut parameter over its bytes as bound).
func TestFitQueryNamesTextsParams(t *testing.T) {
	t.Parallel()
	bin := []byte(strings.Repeat("\x00\xff", 20000))
	q := Query{SessionID: "s1", N: 7, Kind: "extended", Statement: strings.Repeat("select 'é' ", 5000),
		StatementName: strings.Repeat("n", 100<<10), Portal: "p",
		Params: []QueryParam{{Format: "text", Value: strings.Repeat("v", 30000)}, {Format: "null"},
			{Format: "binary", Value: base64.StdEncoding.EncodeToString(bin)}, {Format: "text", Value: "short"}}}
	data, err := json.Marshal(q)
	require.NoError(t, err)
	got, err := Fit(TypeQuery, 1, data, fitMax)
	require.NoError(t, err)
	require.LessOrEqual(t, len(got), fitMax)
	require.Greater(t, len(got), fitMax-1024, "the cap is the largest that fits")
	requireValid(t, TypeQuery, got)
	var f Query
	require.NoError(t, json.Unmarshal(got, &f))
	require.True(t, f.Truncated)
	require.Equal(t, sha(q.Statement), f.SHA256)
	require.True(t, strings.HasPrefix(q.Statement, f.Statement))
	require.True(t, strings.HasPrefix(q.StatementName, f.StatementName))
	require.Less(t, len(f.StatementName), len(q.StatementName))
	require.Equal(t, "p", f.Portal)
	require.Len(t, f.Params, 4)
	require.Equal(t, sha(q.Params[0].Value), f.Params[0].SHA256)
	require.Equal(t, QueryParam{Format: "null"}, f.Params[1])
	require.Equal(t, sha(string(bin)), f.Params[2].SHA256, "a binary parameter's hash is over its bytes")
	require.Equal(t, QueryParam{Format: "text", Value: "short"}, f.Params[3], "what fits under the cap is kept whole")
	require.Zero(t, f.ParamsOmitted)
}

// TestFitQueryManyParams: more parameters than fit even cut to nothing:
// those at the end are left out, counted and hashed as in the Bind.
func TestFitQueryManyParams(t *testing.T) {
	t.Parallel()
	q := Query{SessionID: "s1", N: 1, Kind: "extended", Statement: "insert into t values ($1, …)"}
	for i := range 20000 {
		p := QueryParam{Format: "text", Value: strings.Repeat("x", i%50)}
		if i%7 == 0 {
			p = QueryParam{Format: "null"}
		}
		q.Params = append(q.Params, p)
	}
	got, err := q.Fit(fitMax)
	require.NoError(t, err)
	require.LessOrEqual(t, len(got), fitMax)
	requireValid(t, TypeQuery, got)
	var f Query
	require.NoError(t, json.Unmarshal(got, &f))
	require.True(t, f.Truncated)
	require.Positive(t, f.ParamsOmitted)
	require.Equal(t, len(q.Params), len(f.Params)+f.ParamsOmitted)
	require.Equal(t, OmittedParamsSHA256(q.Params[len(f.Params):]), f.ParamsSHA256)
	// The hash is over the Bind encoding: length -1 for NULL, else the
	// length and the bytes.
	require.Equal(t, sha("\xff\xff\xff\xff"+"\x00\x00\x00\x02ab"), OmittedParamsSHA256([]QueryParam{{Format: "null"}, {Format: "text", Value: "ab"}}))
}

func TestFitOtherEvents(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("ü", 40000)
	r, err := json.Marshal(QueryResult{SessionID: "s", N: 1, Status: "error", SQLState: "XX000", Error: big})
	require.NoError(t, err)
	s, err := json.Marshal(SessionStarted{SessionID: "s", User: "alice", Database: "roach", DBUser: big, DBName: "d", Protocol: "postgres",
		ClientAddr: "127.0.0.1:5", AgentID: "a", Params: map[string]string{big + "1": "v", big + "2": big, "application_name": "psql"}})
	require.NoError(t, err)
	j, err := json.Marshal(SessionRejected{SessionID: "s", ClientAddr: "c", AgentID: "a", Code: RejectDenied, Reason: big, Params: map[string]string{"options": big}})
	require.NoError(t, err)
	e, err := json.Marshal(SessionEnded{SessionID: "s", Reason: EndError, Message: big})
	require.NoError(t, err)
	for typ, data := range map[string]json.RawMessage{TypeQueryResult: r, TypeSessionStarted: s, TypeSessionRejected: j, TypeSessionEnded: e} {
		got, err := Fit(typ, 1, data, fitMax)
		require.NoError(t, err, typ)
		require.LessOrEqual(t, len(got), fitMax, typ)
		requireValid(t, typ, got)
		var m map[string]any
		require.NoError(t, json.Unmarshal(got, &m))
		require.Equal(t, true, m["truncated"], typ)
	}
	got, err := Fit(TypeSessionStarted, 1, s, fitMax)
	require.NoError(t, err)
	var st SessionStarted
	require.NoError(t, json.Unmarshal(got, &st))
	require.Len(t, st.Params, 3, "names cut equal stay apart")
	require.Equal(t, "psql", st.Params["application_name"])

	_, err = Fit(TypeCertIssued, 1, json.RawMessage(`{"kind":"`+big+`"}`), fitMax)
	require.ErrorIs(t, err, eventlog.ErrTooLarge, "a type with nothing to cut")
	_, err = Fit(TypeQuery, 2, r, fitMax)
	require.ErrorIs(t, err, eventlog.ErrTooLarge, "an unknown version")
}
