//go:build cgo

package sqlfacts

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/policy"
)

func TestUnparseableSaysWhy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sql  string
		want string
	}{
		{"DELETE FROMM payments", `syntax error at or near "FROMM"`},
		{"SELECT 'unterminated", "unterminated quoted string at or near \"'unterminated\""},
		{"SELECT 1; DELETE FROMM payments", `syntax error at or near "FROMM"`},
		{"UPSERT INTO payments (id) VALUES (1)", `syntax error at or near "UPSERT"`}, // CockroachDB's, not PostgreSQL's
		{"SELECT 1\x00; DELETE FROM payments", hasNUL},
		{"SELECT '" + strings.Repeat("x", MaxText) + "'", tooLong},
	} {
		f := Parse(tc.sql)
		require.Equal(t, tc.want, f.Unparseable, "%.60q", tc.sql)
		require.Empty(t, f.Statements, "%.60q", tc.sql)
	}
}

func TestLongestTextIsParsed(t *testing.T) {
	t.Parallel()
	sql := "SELECT '" + strings.Repeat("x", MaxText-len("SELECT ''")) + "'"
	require.Len(t, sql, MaxText)
	require.Equal(t, []policy.Class{policy.ClassSelect}, classesOf(only(t, sql)))
}

func TestNothingToRunIsNoStatement(t *testing.T) {
	t.Parallel()
	for _, sql := range []string{"", "  \n\t", ";", ";;  ;", "-- only a comment", "/* a */ ; /* b /* c */ */ ;\n-- d"} {
		require.Equal(t, policy.Facts{}, Parse(sql), "%q", sql)
	}
}

func TestStatementsInOrder(t *testing.T) {
	t.Parallel()
	f := Parse("BEGIN; DELETE FROM payments WHERE id = 1; /* x */ ; SELECT lower('a'); COMMIT")
	require.Empty(t, f.Unparseable)
	require.Equal(t, []policy.Statement{
		{Index: 1, Ops: []policy.Op{op(policy.ClassTransaction)}},
		{Index: 2, Ops: []policy.Op{op(policy.ClassDelete, payments)}},
		{Index: 3, Ops: []policy.Op{op(policy.ClassSelect)}, Functions: []string{"lower"}},
		{Index: 4, Ops: []policy.Op{op(policy.ClassTransaction)}},
	}, f.Statements)
}

// TestStatementsAreIndependent: scope, dedup and functions do not leak
// from one statement into the next.
func TestStatementsAreIndependent(t *testing.T) {
	t.Parallel()
	f := Parse("WITH payments AS (SELECT lower('x')) SELECT * FROM payments; SELECT * FROM payments")
	require.Len(t, f.Statements, 2)
	require.Equal(t, policy.Statement{Index: 2, Ops: []policy.Op{op(policy.ClassSelect, payments)}}, f.Statements[1])
}

func TestSameTextSameFacts(t *testing.T) {
	t.Parallel()
	sql := "WITH d AS (DELETE FROM payments RETURNING *) INSERT INTO a SELECT lower(x), upper(y) FROM d, b, c JOIN e USING (id); " +
		"SELECT * FROM x UNION SELECT * FROM y; DROP TABLE p, q, r"
	want := Parse(sql)
	for range 20 {
		require.Equal(t, want, Parse(sql))
	}
}

// TestDeepOrWideTextsDegrade: nesting past the parser's stack limit is
// unparseable, not a crash; a wide statement is read whole.
func TestDeepOrWideTextsDegrade(t *testing.T) {
	t.Parallel()
	deep := "SELECT " + strings.Repeat("(", 50000) + "1" + strings.Repeat(")", 50000)
	require.NotEmpty(t, Parse(deep).Unparseable)

	sub := "SELECT * FROM " + strings.Repeat("(SELECT * FROM ", 200) + "payments" + strings.Repeat(") s", 200)
	st := only(t, sub)
	require.Len(t, st.Ops, 201)
	require.Equal(t, op(policy.ClassSelect, payments), st.Ops[200])

	in := "DELETE FROM payments WHERE id IN (" + strings.Repeat("lower('x'), ", 20000) + "1)"
	st = only(t, in)
	require.Equal(t, []string{"lower"}, st.Functions)
	require.False(t, st.Ops[0].NoWhere)
}
