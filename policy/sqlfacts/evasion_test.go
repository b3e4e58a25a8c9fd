//go:build cgo

package sqlfacts

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/policy"
)

var payments = tb("payments")

// TestEvasionsDoNotHideAnOp: what the server runs, the facts say, however
// the text dresses it; and text that only looks like SQL is not an op.
func TestEvasionsDoNotHideAnOp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sql  string
		want []policy.Op
	}{
		{"block comment", "/* x */ DELETE FROM payments WHERE id = 1", []policy.Op{op(policy.ClassDelete, payments)}},
		{"line comment", "-- SELECT 1\nDELETE FROM payments WHERE id = 1", []policy.Op{op(policy.ClassDelete, payments)}},
		{"nested comment", "/* a /* b */ SELECT 1; */ DELETE FROM payments WHERE id = 1", []policy.Op{op(policy.ClassDelete, payments)}},
		{"comment inside", "DELETE/**/FROM/* x */payments WHERE id = 1", []policy.Op{op(policy.ClassDelete, payments)}},
		{"mixed case", "DeLeTe FrOm Payments WhErE id = 1", []policy.Op{op(policy.ClassDelete, payments)}},
		{"quoted lower is the same table", `DELETE FROM "payments" WHERE id = 1`, []policy.Op{op(policy.ClassDelete, payments)}},
		{"quoted upper is another table", `DELETE FROM "Payments" WHERE id = 1`, []policy.Op{op(policy.ClassDelete, tb("Payments"))}},
		{"unicode escape", `DELETE FROM U&"p\0061yments" WHERE id = 1`, []policy.Op{op(policy.ClassDelete, payments)}},
		{"schema qualified", "DELETE FROM billing.payments WHERE id = 1", []policy.Op{op(policy.ClassDelete, tb("billing", "payments"))}},
		{"catalog qualified", "DELETE FROM prod.billing.payments WHERE id = 1", []policy.Op{op(policy.ClassDelete, tb("billing", "payments"))}},
		{"data-modifying CTE", "WITH d AS (DELETE FROM payments RETURNING *) SELECT * FROM d",
			[]policy.Op{op(policy.ClassSelect), noWhere(policy.ClassDelete, payments)}},
		{"CTE in an INSERT", "WITH d AS (DELETE FROM payments WHERE id = 1 RETURNING *) INSERT INTO archive SELECT * FROM d",
			[]policy.Op{op(policy.ClassInsert, tb("archive")), op(policy.ClassDelete, payments), op(policy.ClassSelect)}},
		{"PREPARE", "PREPARE x AS DELETE FROM payments WHERE id = $1",
			[]policy.Op{op(policy.ClassPrepare), op(policy.ClassDelete, payments)}},
		{"EXPLAIN ANALYZE", "EXPLAIN ANALYZE DELETE FROM payments WHERE id = 1",
			[]policy.Op{op(policy.ClassExplain), op(policy.ClassDelete, payments)}},
		{"EXPLAIN options", "EXPLAIN (ANALYZE, BUFFERS) UPDATE payments SET amount = 0",
			[]policy.Op{op(policy.ClassExplain), noWhere(policy.ClassUpdate, payments)}},
		{"COPY a DELETE", "COPY (DELETE FROM payments RETURNING *) TO STDOUT",
			[]policy.Op{op(policy.ClassCopy), noWhere(policy.ClassDelete, payments)}},
		{"DECLARE", "DECLARE c CURSOR FOR SELECT * FROM payments", []policy.Op{op(policy.ClassCursor), op(policy.ClassSelect, payments)}},
		{"SELECT INTO", "SELECT * INTO t FROM payments", []policy.Op{op(policy.ClassDDL, tb("t")), op(policy.ClassSelect, payments)}},
		{"CREATE TABLE AS", "CREATE TABLE copy AS SELECT * FROM payments",
			[]policy.Op{op(policy.ClassDDL, tb("copy")), op(policy.ClassSelect, payments)}},
		{"subquery in SET", "UPDATE accounts SET total = (SELECT sum(amount) FROM payments) WHERE id = 1",
			[]policy.Op{op(policy.ClassUpdate, tb("accounts")), op(policy.ClassSelect, payments)}},
		{"subquery in WHERE", "DELETE FROM accounts WHERE id IN (SELECT account FROM payments)",
			[]policy.Op{op(policy.ClassDelete, tb("accounts")), op(policy.ClassSelect, payments)}},
		{"lateral subquery", "SELECT * FROM a, LATERAL (SELECT * FROM payments WHERE payments.a = a.id) p",
			[]policy.Op{op(policy.ClassSelect, tb("a")), op(policy.ClassSelect, payments)}},
		{"dollar quote is a string", "SELECT $$DELETE FROM payments$$", []policy.Op{op(policy.ClassSelect)}},
		{"tagged dollar quote", "SELECT $x$; DELETE FROM payments; $x$", []policy.Op{op(policy.ClassSelect)}},
		{"string literal", "SELECT 'DELETE FROM payments'", []policy.Op{op(policy.ClassSelect)}},
		{"set_config role", "SELECT set_config('role', 'admin', false)", []policy.Op{op(policy.ClassSelect), op(policy.ClassSetRole)}},
		{"set_config qualified, upper case", "SELECT pg_catalog.set_config('ROLE', 'admin', true)",
			[]policy.Op{op(policy.ClassSelect), op(policy.ClassSetRole)}},
		{"set_config cast", "SELECT set_config('session_authorization'::text, 'bob', false)",
			[]policy.Op{op(policy.ClassSelect), op(policy.ClassSetRole)}},
		{"set_config named", "SELECT set_config(is_local => false, new_value => 'x', setting_name => 'role')",
			[]policy.Op{op(policy.ClassSelect), op(policy.ClassSetRole)}},
		{"set_config computed name", "SELECT set_config(lower('ROLE'), 'admin', false)",
			[]policy.Op{op(policy.ClassSelect), op(policy.ClassSetRole)}},
		{"set_config parameter", "SELECT set_config($1, $2, false)", []policy.Op{op(policy.ClassSelect), op(policy.ClassSetRole)}},
		{"set_config of another setting", "SELECT set_config('search_path', 'x', false)", []policy.Op{op(policy.ClassSelect)}},
		{"set_config in a WHERE", "SELECT 1 FROM payments WHERE set_config('role', 'admin', false) IS NOT NULL",
			[]policy.Op{op(policy.ClassSelect, payments), op(policy.ClassSetRole)}},
		{"set_config in EXECUTE", "EXECUTE q (set_config('role', 'admin', false))", []policy.Op{op(policy.ClassExecute), op(policy.ClassSetRole)}},
		{"quoted setting name", `SET "Role" = admin`, []policy.Op{op(policy.ClassSetRole)}},
		{"nested SET", "ALTER ROLE bob SET role = 'admin'", []policy.Op{op(policy.ClassDDL), op(policy.ClassSetRole)}},
		{"SQL-standard function body", "CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM payments WHERE id = 1; END",
			[]policy.Op{op(policy.ClassDDL), op(policy.ClassDelete, payments)}},
		{"rule action", "CREATE RULE r AS ON INSERT TO t DO ALSO DELETE FROM payments WHERE id = 1",
			[]policy.Op{op(policy.ClassDDL, tb("t")), op(policy.ClassDelete, payments)}},
		{"set operation arms are one op", "SELECT a FROM x UNION SELECT b FROM y EXCEPT SELECT c FROM payments",
			[]policy.Op{op(policy.ClassSelect, tb("x"), tb("y"), payments)}},
		{"subquery in a set operation arm", "SELECT a FROM x UNION SELECT (SELECT 1 FROM payments)",
			[]policy.Op{op(policy.ClassSelect, tb("x")), op(policy.ClassSelect, payments)}},
		{"VALUES of an INSERT", "INSERT INTO t VALUES (1), ((SELECT max(id) FROM payments))",
			[]policy.Op{op(policy.ClassInsert, tb("t")), op(policy.ClassSelect, payments)}},
		{"join", "SELECT * FROM a JOIN payments USING (id) LEFT JOIN b ON true",
			[]policy.Op{op(policy.ClassSelect, tb("a"), payments, tb("b"))}},
		{"dedup in an op", "SELECT * FROM payments a, payments b, public.payments c",
			[]policy.Op{op(policy.ClassSelect, payments, tb("public", "payments"))}},
		{"FOR UPDATE OF an alias", "SELECT * FROM payments p FOR UPDATE OF p", []policy.Op{op(policy.ClassSelect, payments)}},
		{"DROP names", "DROP TABLE payments, billing.refunds, prod.billing.notes",
			[]policy.Op{op(policy.ClassDDL, payments, tb("billing", "refunds"), tb("billing", "notes"))}},
		{"DROP VIEW", "DROP VIEW IF EXISTS v", []policy.Op{op(policy.ClassDDL, tb("v"))}},
		{"DROP of a trigger names its table", "DROP TRIGGER trg ON billing.payments", []policy.Op{op(policy.ClassDDL, tb("billing", "payments"))}},
		{"DROP FUNCTION names no table", "DROP FUNCTION f(int)", []policy.Op{op(policy.ClassDDL)}},
		{"COMMENT ON COLUMN names its table", "COMMENT ON COLUMN payments.amount IS 'x'", []policy.Op{op(policy.ClassDDL, payments)}},
		{"TRUNCATE", "TRUNCATE ONLY payments, refunds", []policy.Op{op(policy.ClassTruncate, payments, tb("refunds"))}},
		{"GRANT ON", "GRANT SELECT, UPDATE ON payments TO bob", []policy.Op{op(policy.ClassGrant, payments)}},
		{"MERGE source", "MERGE INTO payments USING staging s ON payments.id = s.id WHEN MATCHED THEN UPDATE SET amount = s.amount",
			[]policy.Op{op(policy.ClassMerge, payments, tb("staging"))}},
	} {
		require.Equal(t, tc.want, only(t, tc.sql).Ops, "%s: %s", tc.name, tc.sql)
	}
}

// TestCTENamesAreNotTables: an unqualified name a WITH in scope defines
// is the CTE; anywhere the CTE is not in scope, or qualified, or as the
// target of a change, it is the table.
func TestCTENamesAreNotTables(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sql  string
		want []policy.Op
	}{
		{"CTE reference", "WITH p AS (SELECT * FROM payments) SELECT * FROM p",
			[]policy.Op{op(policy.ClassSelect), op(policy.ClassSelect, payments)}},
		{"CTE shadowing a table", "WITH payments AS (SELECT 1) SELECT * FROM payments",
			[]policy.Op{op(policy.ClassSelect), op(policy.ClassSelect)}},
		{"qualified name is the table", "WITH payments AS (SELECT 1) SELECT * FROM public.payments",
			[]policy.Op{op(policy.ClassSelect, tb("public", "payments")), op(policy.ClassSelect)}},
		{"DELETE target is the table", "WITH payments AS (SELECT 1) DELETE FROM payments WHERE id = 1",
			[]policy.Op{op(policy.ClassDelete, payments), op(policy.ClassSelect)}},
		{"INSERT target is the table", "WITH payments AS (SELECT 1 AS id) INSERT INTO payments SELECT id FROM payments",
			[]policy.Op{op(policy.ClassInsert, payments), op(policy.ClassSelect), op(policy.ClassSelect)}},
		{"UPDATE FROM a CTE", "WITH s AS (SELECT 1 AS id) UPDATE payments SET amount = 0 FROM s WHERE payments.id = s.id",
			[]policy.Op{op(policy.ClassUpdate, payments), op(policy.ClassSelect)}},
		{"in a subquery", "WITH p AS (SELECT 1) SELECT * FROM x WHERE EXISTS (SELECT 1 FROM p)",
			[]policy.Op{op(policy.ClassSelect, tb("x")), op(policy.ClassSelect), op(policy.ClassSelect)}},
		{"out of scope in the next statement part", "SELECT * FROM (WITH p AS (SELECT 1) SELECT * FROM p) s, p",
			[]policy.Op{op(policy.ClassSelect, tb("p")), op(policy.ClassSelect), op(policy.ClassSelect)}},
		{"later sibling is not in scope", "WITH a AS (SELECT * FROM b), b AS (SELECT * FROM a) SELECT * FROM b",
			[]policy.Op{op(policy.ClassSelect), op(policy.ClassSelect, tb("b")), op(policy.ClassSelect)}},
		{"not recursive: own name is the table", "WITH payments AS (SELECT * FROM payments) SELECT * FROM payments",
			[]policy.Op{op(policy.ClassSelect), op(policy.ClassSelect, payments)}},
		{"recursive: own name is the CTE", "WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT * FROM r) SELECT * FROM r",
			[]policy.Op{op(policy.ClassSelect), op(policy.ClassSelect)}},
		{"MERGE USING a CTE", "WITH s AS (SELECT 1 AS id) MERGE INTO payments USING s ON payments.id = s.id WHEN MATCHED THEN DELETE",
			[]policy.Op{op(policy.ClassMerge, payments), op(policy.ClassSelect)}},
	} {
		require.Equal(t, tc.want, only(t, tc.sql).Ops, "%s: %s", tc.name, tc.sql)
	}
}

// TestNoWhere: an UPDATE or DELETE of every row, however its WHERE is
// dressed; any column read, or CURRENT OF, is a WHERE.
func TestNoWhere(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sql  string
		want bool
	}{
		{"DELETE FROM payments", true},
		{"UPDATE payments SET amount = 0", true},
		{"DELETE FROM payments WHERE true", true},
		{"DELETE FROM payments WHERE 1 = 1", true},
		{"DELETE FROM payments WHERE 'a' = 'a'", true},
		{"DELETE FROM payments WHERE NOT false", true},
		{"UPDATE payments SET amount = 0 WHERE now() > '2000-01-01'", true},
		{"DELETE FROM payments WHERE $1", true},
		{"DELETE FROM payments WHERE (SELECT true)", true},
		{"UPDATE payments SET amount = amount * 2 WHERE true", true}, // SET reads a column, WHERE does not
		{"DELETE FROM payments WHERE id = 1", false},
		{"DELETE FROM payments WHERE payments.id IS NOT NULL", false},
		{"UPDATE payments SET amount = 0 WHERE id = $1", false},
		{"DELETE FROM payments WHERE CURRENT OF c", false},
		{"DELETE FROM payments USING refunds WHERE refunds.id = 1", false},
	} {
		st := only(t, tc.sql)
		require.Equal(t, tc.want, st.Ops[0].NoWhere, tc.sql)
	}
	// NoWhere is for UPDATE and DELETE only.
	require.False(t, only(t, "SELECT * FROM payments").Ops[0].NoWhere)
	require.False(t, only(t, "TRUNCATE payments").Ops[0].NoWhere)
}

// TestFunctionsAsTheParserNamesThem: every call anywhere, qualified as
// written, deduplicated in first-appearance order.
func TestFunctionsAsTheParserNamesThem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sql  string
		want []string
	}{
		{"SELECT 1", nil},
		{"SELECT lower(a), LOWER(b), upper(lower(c)) FROM t", []string{"lower", "upper"}},
		{`SELECT pg_catalog.set_config('x', 'y', false), "MyFunc"()`, []string{"pg_catalog.set_config", "MyFunc"}},
		{"SELECT count(*) OVER (ORDER BY rank()) FROM t", []string{"count", "rank"}},
		{"SELECT * FROM generate_series(1, 3)", []string{"generate_series"}},
		{"SELECT extract(year FROM now())", []string{"pg_catalog.extract", "now"}},
		{"CALL billing.archive(now())", []string{"billing.archive", "now"}},
		{"EXECUTE q (pg_sleep(10), lower('x'))", []string{"pg_sleep", "lower"}},
		{"INSERT INTO t VALUES (gen_random_uuid())", []string{"gen_random_uuid"}},
		{"WITH d AS (DELETE FROM t WHERE f(id) RETURNING g(id)) SELECT h(1) FROM d", []string{"f", "g", "h"}},
		{"SELECT $$lower(x)$$", nil},
	} {
		require.Equal(t, tc.want, only(t, tc.sql).Functions, tc.sql)
	}
}

func TestExecutesNameThePreparedStatement(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"q"}, only(t, "EXECUTE q (1)").Executes)
	require.Equal(t, []string{"MyQ"}, only(t, `EXECUTE "MyQ"`).Executes)
	st := only(t, "EXPLAIN ANALYZE EXECUTE q")
	require.Equal(t, []policy.Class{policy.ClassExplain, policy.ClassExecute}, classesOf(st))
	require.Equal(t, []string{"q"}, st.Executes)
	st = only(t, "CREATE TABLE t AS EXECUTE q")
	require.Equal(t, []policy.Op{op(policy.ClassDDL, tb("t")), op(policy.ClassExecute)}, st.Ops)
	require.Equal(t, []string{"q"}, st.Executes)
	require.Nil(t, only(t, "PREPARE q AS SELECT 1").Executes)
}
