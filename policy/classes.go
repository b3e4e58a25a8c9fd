package policy

// Class is a statement class, the value of a rule's statements field.
type Class string

// The statement classes.
const (
	ClassSelect      Class = "select"      // SELECT, VALUES, TABLE, a subquery
	ClassInsert      Class = "insert"      // INSERT (ON CONFLICT included)
	ClassUpdate      Class = "update"      // UPDATE
	ClassDelete      Class = "delete"      // DELETE
	ClassMerge       Class = "merge"       // MERGE
	ClassCopy        Class = "copy"        // COPY (to and from)
	ClassTruncate    Class = "truncate"    // TRUNCATE
	ClassDDL         Class = "ddl"         // CREATE, ALTER, DROP, COMMENT, SECURITY LABEL, REFRESH MATERIALIZED VIEW, SELECT INTO
	ClassGrant       Class = "grant"       // GRANT, REVOKE, ALTER DEFAULT PRIVILEGES, role membership
	ClassSetRole     Class = "set_role"    // SET [LOCAL] ROLE, SET SESSION AUTHORIZATION, RESET ROLE…, set_config('role', …)
	ClassSet         Class = "set"         // SET, RESET of other settings
	ClassShow        Class = "show"        // SHOW
	ClassTransaction Class = "transaction" // BEGIN, START, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, PREPARE TRANSACTION…
	ClassPrepare     Class = "prepare"     // PREPARE (its query is judged too), DEALLOCATE
	ClassExecute     Class = "execute"     // EXECUTE (the prepared statement it runs is judged too)
	ClassCursor      Class = "cursor"      // DECLARE (its query is judged too), FETCH, MOVE, CLOSE
	ClassCall        Class = "call"        // CALL, a FunctionCall message
	ClassDo          Class = "do"          // DO (its body is not read)
	ClassExplain     Class = "explain"     // EXPLAIN (its statement is judged too)
	ClassLock        Class = "lock"        // LOCK
	ClassMaintenance Class = "maintenance" // VACUUM, ANALYZE, CLUSTER, REINDEX, CHECKPOINT, LOAD
	ClassNotify      Class = "notify"      // LISTEN, NOTIFY, UNLISTEN
	ClassDiscard     Class = "discard"     // DISCARD
	ClassOther       Class = "other"       // anything else
)

// Classes are every class, in the order the docs list them.
var Classes = []Class{ClassSelect, ClassInsert, ClassUpdate, ClassDelete, ClassMerge, ClassCopy,
	ClassTruncate, ClassDDL, ClassGrant, ClassSetRole, ClassSet, ClassShow, ClassTransaction,
	ClassPrepare, ClassExecute, ClassCursor, ClassCall, ClassDo, ClassExplain, ClassLock,
	ClassMaintenance, ClassNotify, ClassDiscard, ClassOther}

// knownClass reports whether c is one of Classes.
func knownClass(c Class) bool {
	for _, k := range Classes {
		if k == c {
			return true
		}
	}
	return false
}
