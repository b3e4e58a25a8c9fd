//go:build cgo

package sqlfacts

import (
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tollgate-db/tollgate/policy"
)

// classCases are a real statement of every class: the classes of its
// ops, in order.
var classCases = []struct {
	sql  string
	want []policy.Class
}{
	{"SELECT 1", []policy.Class{policy.ClassSelect}},
	{"VALUES (1), (2)", []policy.Class{policy.ClassSelect}},
	{"TABLE payments", []policy.Class{policy.ClassSelect}},
	{"SELECT a FROM x UNION SELECT b FROM y", []policy.Class{policy.ClassSelect}},
	{"INSERT INTO payments (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET id = 2", []policy.Class{policy.ClassInsert}},
	{"INSERT INTO payments DEFAULT VALUES", []policy.Class{policy.ClassInsert}},
	{"INSERT INTO payments SELECT * FROM staging", []policy.Class{policy.ClassInsert, policy.ClassSelect}},
	{"UPDATE payments SET amount = 0 WHERE id = 1", []policy.Class{policy.ClassUpdate}},
	{"DELETE FROM payments WHERE id = 1", []policy.Class{policy.ClassDelete}},
	{"MERGE INTO payments p USING incoming i ON p.id = i.id WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT VALUES (i.id)",
		[]policy.Class{policy.ClassMerge}},
	{"COPY payments FROM STDIN", []policy.Class{policy.ClassCopy}},
	{"COPY payments (id) TO STDOUT WITH (FORMAT csv)", []policy.Class{policy.ClassCopy}},
	{"COPY (SELECT * FROM payments) TO STDOUT", []policy.Class{policy.ClassCopy, policy.ClassSelect}},
	{"TRUNCATE payments RESTART IDENTITY", []policy.Class{policy.ClassTruncate}},
	{"CREATE TABLE t (id int PRIMARY KEY)", []policy.Class{policy.ClassDDL}},
	{"ALTER TABLE payments ADD COLUMN note text", []policy.Class{policy.ClassDDL}},
	{"ALTER TABLE payments RENAME TO old_payments", []policy.Class{policy.ClassDDL}},
	{"DROP TABLE payments", []policy.Class{policy.ClassDDL}},
	{"DROP SCHEMA s CASCADE", []policy.Class{policy.ClassDDL}},
	{"COMMENT ON TABLE payments IS 'money'", []policy.Class{policy.ClassDDL}},
	{"SECURITY LABEL FOR selinux ON TABLE payments IS 'x'", []policy.Class{policy.ClassDDL}},
	{"REFRESH MATERIALIZED VIEW CONCURRENTLY totals", []policy.Class{policy.ClassDDL}},
	{"CREATE ROLE bob LOGIN", []policy.Class{policy.ClassDDL}},
	{"ALTER ROLE bob SUPERUSER", []policy.Class{policy.ClassDDL}},
	{"CREATE EXTENSION pgcrypto", []policy.Class{policy.ClassDDL}},
	{"CREATE INDEX CONCURRENTLY i ON payments (id)", []policy.Class{policy.ClassDDL}},
	{"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", []policy.Class{policy.ClassDDL}},
	{"CREATE VIEW v AS SELECT * FROM payments", []policy.Class{policy.ClassDDL, policy.ClassSelect}},
	{"CREATE TABLE t AS SELECT * FROM payments", []policy.Class{policy.ClassDDL, policy.ClassSelect}},
	{"CREATE MATERIALIZED VIEW mv AS SELECT * FROM payments", []policy.Class{policy.ClassDDL, policy.ClassSelect}},
	{"SELECT * INTO t FROM payments", []policy.Class{policy.ClassDDL, policy.ClassSelect}},
	{"DROP OWNED BY bob", []policy.Class{policy.ClassDDL}},
	{"REASSIGN OWNED BY bob TO alice", []policy.Class{policy.ClassDDL}},
	{"GRANT SELECT ON payments TO bob", []policy.Class{policy.ClassGrant}},
	{"REVOKE ALL ON payments FROM bob", []policy.Class{policy.ClassGrant}},
	{"GRANT admin TO bob", []policy.Class{policy.ClassGrant}},
	{"REVOKE admin FROM bob", []policy.Class{policy.ClassGrant}},
	{"ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT SELECT ON TABLES TO bob", []policy.Class{policy.ClassGrant}},
	{"SET ROLE admin", []policy.Class{policy.ClassSetRole}},
	{"SET LOCAL ROLE admin", []policy.Class{policy.ClassSetRole}},
	{"SET ROLE NONE", []policy.Class{policy.ClassSetRole}},
	{"RESET ROLE", []policy.Class{policy.ClassSetRole}},
	{"SET SESSION AUTHORIZATION bob", []policy.Class{policy.ClassSetRole}},
	{"SET SESSION AUTHORIZATION DEFAULT", []policy.Class{policy.ClassSetRole}},
	{"RESET SESSION AUTHORIZATION", []policy.Class{policy.ClassSetRole}},
	{"RESET ALL", []policy.Class{policy.ClassSetRole}},
	{`SET "ROLE" TO admin`, []policy.Class{policy.ClassSetRole}},
	{"SELECT set_config('role', 'admin', false)", []policy.Class{policy.ClassSelect, policy.ClassSetRole}},
	{"SET search_path TO s, public", []policy.Class{policy.ClassSet}},
	{"SET LOCAL statement_timeout = '5s'", []policy.Class{policy.ClassSet}},
	{"RESET work_mem", []policy.Class{policy.ClassSet}},
	{"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", []policy.Class{policy.ClassSet}},
	{"SET CONSTRAINTS ALL DEFERRED", []policy.Class{policy.ClassSet}},
	{"SHOW search_path", []policy.Class{policy.ClassShow}},
	{"SHOW ALL", []policy.Class{policy.ClassShow}},
	{"BEGIN ISOLATION LEVEL REPEATABLE READ", []policy.Class{policy.ClassTransaction}},
	{"START TRANSACTION READ ONLY", []policy.Class{policy.ClassTransaction}},
	{"COMMIT", []policy.Class{policy.ClassTransaction}},
	{"ROLLBACK", []policy.Class{policy.ClassTransaction}},
	{"SAVEPOINT s1", []policy.Class{policy.ClassTransaction}},
	{"RELEASE SAVEPOINT s1", []policy.Class{policy.ClassTransaction}},
	{"ROLLBACK TO SAVEPOINT s1", []policy.Class{policy.ClassTransaction}},
	{"PREPARE TRANSACTION 'tx1'", []policy.Class{policy.ClassTransaction}},
	{"COMMIT PREPARED 'tx1'", []policy.Class{policy.ClassTransaction}},
	{"PREPARE q (int) AS SELECT * FROM payments WHERE id = $1", []policy.Class{policy.ClassPrepare, policy.ClassSelect}},
	{"DEALLOCATE q", []policy.Class{policy.ClassPrepare}},
	{"DEALLOCATE ALL", []policy.Class{policy.ClassPrepare}},
	{"EXECUTE q (1)", []policy.Class{policy.ClassExecute}},
	{"DECLARE c CURSOR WITH HOLD FOR SELECT * FROM payments", []policy.Class{policy.ClassCursor, policy.ClassSelect}},
	{"FETCH 10 FROM c", []policy.Class{policy.ClassCursor}},
	{"MOVE NEXT IN c", []policy.Class{policy.ClassCursor}},
	{"CLOSE c", []policy.Class{policy.ClassCursor}},
	{"CLOSE ALL", []policy.Class{policy.ClassCursor}},
	{"CALL archive_payments(2024)", []policy.Class{policy.ClassCall}},
	{"DO $$BEGIN DELETE FROM payments; END$$", []policy.Class{policy.ClassDo}},
	{"EXPLAIN SELECT * FROM payments", []policy.Class{policy.ClassExplain, policy.ClassSelect}},
	{"LOCK TABLE payments IN ACCESS EXCLUSIVE MODE", []policy.Class{policy.ClassLock}},
	{"VACUUM (VERBOSE) payments", []policy.Class{policy.ClassMaintenance}},
	{"ANALYZE payments", []policy.Class{policy.ClassMaintenance}},
	{"CLUSTER payments USING payments_pkey", []policy.Class{policy.ClassMaintenance}},
	{"REINDEX TABLE payments", []policy.Class{policy.ClassMaintenance}},
	{"CHECKPOINT", []policy.Class{policy.ClassMaintenance}},
	{"LOAD 'auto_explain'", []policy.Class{policy.ClassMaintenance}},
	{"LISTEN jobs", []policy.Class{policy.ClassNotify}},
	{"NOTIFY jobs, 'run'", []policy.Class{policy.ClassNotify}},
	{"UNLISTEN *", []policy.Class{policy.ClassNotify}},
	{"DISCARD PLANS", []policy.Class{policy.ClassDiscard}},
	{"DISCARD TEMP", []policy.Class{policy.ClassDiscard}},
	// DISCARD ALL also resets the session authorization and the role.
	{"DISCARD ALL", []policy.Class{policy.ClassDiscard, policy.ClassSetRole}},
}

func TestClassOfEveryStatementKind(t *testing.T) {
	t.Parallel()
	for _, tc := range classCases {
		require.Equal(t, tc.want, classesOf(only(t, tc.sql)), tc.sql)
	}
}

// TestClassCasesCoverEveryClass: every class but other has an example
// (no PostgreSQL 17 statement is other; fallbackClass is tested alone).
func TestClassCasesCoverEveryClass(t *testing.T) {
	t.Parallel()
	seen := map[policy.Class]bool{}
	for _, tc := range classCases {
		for _, c := range tc.want {
			seen[c] = true
		}
	}
	for _, c := range policy.Classes {
		if c != policy.ClassOther {
			require.True(t, seen[c], "no example of class %s", c)
		}
	}
}

// TestEveryStatementNodeHasAClass: every *Stmt message of the grammar is
// classed by the explicit table (or read as DML by walk), not left to
// the name-based fallback; the exceptions are the nodes that are not
// statements.
func TestEveryStatementNodeHasAClass(t *testing.T) {
	t.Parallel()
	notStatements := map[protoreflect.Name]bool{
		"RawStmt": true, "SetOperationStmt": true, "ReturnStmt": true, "PLAssignStmt": true, "ReplicaIdentityStmt": true,
	}
	msgs := pg_query.File_pg_query_proto.Messages()
	checked := 0
	for i := 0; i < msgs.Len(); i++ {
		md := msgs.Get(i)
		if !strings.HasSuffix(string(md.Name()), "Stmt") || notStatements[md.Name()] {
			continue
		}
		mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
		require.NoError(t, err, md.Name())
		require.True(t, startsOp(mt.New().Interface()), "%s has no class", md.Name())
		checked++
	}
	require.Greater(t, checked, 100)
}

func TestFallbackClassByNodeName(t *testing.T) {
	t.Parallel()
	require.Equal(t, policy.ClassDDL, fallbackClass((&pg_query.CreateStmt{}).ProtoReflect()))
	require.Equal(t, policy.ClassDDL, fallbackClass((&pg_query.AlterTableStmt{}).ProtoReflect()))
	require.Equal(t, policy.ClassOther, fallbackClass((&pg_query.ReturnStmt{}).ProtoReflect()))
}
