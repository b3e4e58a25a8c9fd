package difftest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

func events(t *testing.T, qs ...any) []eventlog.Event {
	var evs []eventlog.Event
	for _, q := range qs {
		b, err := json.Marshal(q)
		require.NoError(t, err)
		typ := schemas.TypeQuery
		if _, ok := q.(schemas.QueryResult); ok {
			typ = schemas.TypeQueryResult
		}
		evs = append(evs, eventlog.Event{ID: "e", Type: typ, V: 1, Data: b})
	}
	return evs
}

func query(n uint64, text string) schemas.Query {
	return schemas.Query{SessionID: "s", N: n, Kind: schemas.QueryKindSimple, Statement: text}
}

func result(n uint64, status, errText string) schemas.QueryResult {
	return schemas.QueryResult{SessionID: "s", N: n, Status: status, Error: errText}
}

// Compare fails on every way the record can disagree with the server, and
// lets a failed query go unlogged.
func TestCompare(t *testing.T) {
	ok, failed, skipped := schemas.ResultOK, schemas.ResultError, schemas.NotExecuted
	for _, tc := range []struct {
		name   string
		logged []string
		evs    []any
		agree  bool
	}{
		{"same texts", []string{"a", "b"}, []any{query(1, "a"), result(1, ok, ""), query(2, "b"), result(2, ok, "")}, true},
		{"another text recorded", []string{"a", "evil"}, []any{query(1, "a"), result(1, ok, ""), query(2, "innocent"), result(2, ok, "")}, false},
		{"a query ran unrecorded", []string{"a", "b"}, []any{query(1, "a"), result(1, ok, "")}, false},
		{"recorded ok, never ran", []string{"a"}, []any{query(1, "a"), result(1, ok, ""), query(2, "b"), result(2, ok, "")}, false},
		{"failed before the log", []string{"b"}, []any{query(1, "a"), result(1, failed, "boom"), query(2, "b"), result(2, ok, "")}, true},
		{"failed after the log", []string{"a", "b"}, []any{query(1, "a"), result(1, failed, "boom"), query(2, "b"), result(2, ok, "")}, true},
		{"skipped takes no log line", []string{"a"}, []any{query(1, "a"), result(1, failed, skipped), query(2, "a"), result(2, ok, "")}, true},
		{"skipped but ran", []string{"a", "a"}, []any{query(1, "a"), result(1, failed, skipped), query(2, "a"), result(2, ok, "")}, false},
		{"no result", []string{"a"}, []any{query(1, "a")}, false},
		{"two results", []string{"a"}, []any{query(1, "a"), result(1, ok, ""), result(1, ok, "")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			why := Compare(tc.logged, events(t, tc.evs...))
			require.Equal(t, tc.agree, why == "", why)
		})
	}
}

func TestLogged(t *testing.T) {
	log := "[7] LOG:  statement: select 1\n[8] LOG:  statement: other\n[7] LOG:  execute s1/p: select 2\n" +
		"[7] DETAIL:  parameters: $1 = 'x'\n[7] LOG:  execute fetch from <unnamed>/c: select 3\n"
	require.Equal(t, []string{"select 1", "select 2", "select 3"}, Logged(log, "[7] LOG:  "))
}
