package gateway_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/relay/difftest"
	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// devRole reaches every database as the user's db users, with deny
// statement rules of each kind.
func devRole(extra ...schemas.StatementRule) schemas.Role {
	rules := append([]schemas.StatementRule{
		{Name: "no-unfiltered-writes", Statements: []string{"update", "delete"}, WithoutWhere: true},
		{Name: "payments-read-only", Statements: []string{"insert", "update", "delete", "truncate", "merge", "copy"}, Tables: []string{"public.payments"}},
		{Name: "no-server-files", Functions: []string{"pg_read_file", "pg_ls_dir", "lo_*"}},
		{Name: "no-role-switch", Statements: []string{"set_role"}},
		{Name: "ddl-needs-approval", Statements: []string{"ddl"}, Action: schemas.ActionRequireApproval, RequestRoles: []string{"dba"}},
		{Name: "watch-exports", Statements: []string{"copy"}, Action: schemas.ActionLogOnly},
	}, extra...)
	return schemas.Role{Name: "dev", Spec: schemas.RoleSpec{
		Allow: schemas.RoleConditions{DBLabels: map[string][]string{"*": {"*"}}, DBUsers: []string{"{{internal.db_users}}"}, DBNames: []string{"*"}},
		Deny:  schemas.RoleConditions{DBStatements: rules},
	}}
}

// policyCase is one statement and what the rules do with it: refused by
// rule (42501), or run.
type policyCase struct {
	name, sql, rule string
}

// TestStatementRulesThroughTheAgent: each rule kind refuses what it names
// and lets the rest run, through pgx's simple and extended protocols and
// psql, however the statement is dressed (comments, case, quoting, CTEs,
// PREPARE, EXPLAIN ANALYZE, COPY (query), qualified functions). A refused
// statement never reaches PostgreSQL: its log never shows it, the client
// gets 42501 naming the rule, and the audit records the query, its
// query.denied and a "not executed" result; the audit and the server's
// log agree statement by statement.
func TestStatementRulesThroughTheAgent(t *testing.T) {
	h := newHarness(t)
	h.pg.Exec(t, `CREATE TABLE public.payments (id int, amount int); CREATE TABLE public.orders (id int, n int);
		INSERT INTO public.payments VALUES (1, 10), (2, 20); INSERT INTO public.orders VALUES (1, 1), (2, 2);
		GRANT ALL ON public.payments, public.orders TO alice, bob; GRANT ALL ON SCHEMA public TO bob, carol`)
	_, err := h.svc.Roles().Create(h.ctx, h.admin, devRole())
	require.NoError(t, err)
	h.addUser("alice", []string{"dev"}, []string{"alice"})
	alice := h.dbCert("alice", "roach", time.Hour)
	conn := h.connString(alice, "alice", "postgres")

	cases := []policyCase{
		{"select runs", "SELECT count(*) FROM payments", ""},
		{"filtered delete runs", "DELETE FROM orders WHERE id = 99", ""},
		{"unfiltered delete", "DELETE FROM orders", "no-unfiltered-writes"},
		{"where true is no filter", "UPDATE orders SET n = 0 WHERE true", "no-unfiltered-writes"},
		{"where 1 = 1 is no filter", "delete from orders where 1 = 1", "no-unfiltered-writes"},
		{"comments and case", "/* harmless */ DeLeTe -- really\n FROM orders", "no-unfiltered-writes"},
		{"quoted payments", `UPDATE "payments" SET amount = 0 WHERE id = 1`, "payments-read-only"},
		{"qualified payments", "INSERT INTO public.payments VALUES (3, 30)", "payments-read-only"},
		{"data-modifying CTE", "WITH d AS (DELETE FROM payments WHERE id = 1 RETURNING *) SELECT * FROM d", "payments-read-only"},
		{"prepared delete", "PREPARE wipe AS DELETE FROM orders", "no-unfiltered-writes"},
		{"explain analyze runs its statement", "EXPLAIN ANALYZE DELETE FROM orders", "no-unfiltered-writes"},
		{"copy of a delete", "COPY (DELETE FROM payments WHERE id = 2 RETURNING *) TO STDOUT", "payments-read-only"},
		{"truncate payments", "TRUNCATE public.payments", "payments-read-only"},
		{"server file", "SELECT pg_read_file('/etc/hostname')", "no-server-files"},
		{"qualified server file", "select PG_CATALOG.pg_ls_dir('.')", "no-server-files"},
		{"set role", "SET ROLE bob", "no-role-switch"},
		{"set_config role", "SELECT set_config('role', 'bob', false)", "no-role-switch"},
		{"session authorization", "SET SESSION AUTHORIZATION bob", "no-role-switch"},
		{"ddl needs approval", "CREATE TABLE scratch (x int)", "ddl-needs-approval"},
		{"dollar-quoted text is only text", "SELECT $$DELETE FROM orders$$", ""},
		{"second statement refuses the whole", "SELECT 'first of two'; DELETE FROM orders", "no-unfiltered-writes"},
	}

	t.Run("simple protocol", func(t *testing.T) { h.judgeCases(t, conn, pgx.QueryExecModeSimpleProtocol, cases) })
	t.Run("extended protocol", func(t *testing.T) {
		var single []policyCase
		for _, c := range cases {
			if !strings.Contains(c.sql, "; ") { // extended statements are one each
				single = append(single, c)
			}
		}
		h.judgeCases(t, conn, pgx.QueryExecModeCacheStatement, single)
	})

	t.Run("psql", func(t *testing.T) {
		out, err := h.psql(alice, "alice", "postgres", "-c", "DELETE FROM orders").CombinedOutput()
		require.Error(t, err)
		require.Contains(t, string(out), `statement refused by rule "no-unfiltered-writes" of role dev`, string(out))
		out, err = h.psql(alice, "alice", "postgres", "-c", `\copy orders to stdout`).CombinedOutput()
		require.NoError(t, err, string(out))
		require.Contains(t, string(out), "1\t1")
	})

	t.Run("a refused statement fails its transaction", func(t *testing.T) {
		c, err := pgx.Connect(h.ctx, conn)
		require.NoError(t, err)
		defer c.Close(h.ctx)
		tx, err := c.Begin(h.ctx)
		require.NoError(t, err)
		_, err = tx.Exec(h.ctx, "UPDATE orders SET n = 5 WHERE id = 1")
		require.NoError(t, err)
		_, err = tx.Exec(h.ctx, "DELETE FROM orders")
		requireRefused(t, err, "no-unfiltered-writes")
		_, err = tx.Exec(h.ctx, "SELECT 1")
		var pe *pgconn.PgError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, "25P02", pe.Code, "the transaction is aborted, as by any error")
		require.NoError(t, tx.Rollback(h.ctx))
		var n int
		require.NoError(t, c.QueryRow(h.ctx, "SELECT n FROM orders WHERE id = 1").Scan(&n))
		require.Equal(t, 1, n, "the update before it was rolled back")
	})

	t.Run("a refused statement in a pipeline", func(t *testing.T) {
		c, err := pgx.Connect(h.ctx, conn)
		require.NoError(t, err)
		defer c.Close(h.ctx)
		b := &pgx.Batch{}
		b.Queue("SELECT 'before the refused one'")
		b.Queue("DELETE FROM orders")
		b.Queue("SELECT 'after the refused one'")
		br := c.SendBatch(h.ctx, b)
		_, err = br.Exec()
		require.NoError(t, err)
		_, err = br.Exec()
		requireRefused(t, err, "no-unfiltered-writes")
		_, err = br.Exec()
		require.Error(t, err, "the server skips the rest of the group")
		_ = br.Close() // it returns the batch's first error again
		var one int
		require.NoError(t, c.QueryRow(h.ctx, "SELECT 1").Scan(&one))
		// What the client sent after it is on record, not executed.
		require.Eventually(t, func() bool {
			denied := h.events(schemas.TypeQueryDenied)
			d := decode[schemas.QueryPolicy](t, denied[len(denied)-1])
			for _, rev := range h.events(schemas.TypeQueryResult) {
				if r := decode[schemas.QueryResult](t, rev); r.SessionID == d.SessionID && r.N == d.N+1 {
					return r.Status == schemas.ResultError && r.Error == schemas.NotExecuted
				}
			}
			return false
		}, 20*time.Second, 20*time.Millisecond)
	})

	t.Run("require_approval lets a held role run", func(t *testing.T) {
		_, err := h.svc.Roles().Create(h.ctx, h.admin, schemas.Role{Name: "dba"})
		require.NoError(t, err)
		h.addUser("carol", []string{"dev", "dba"}, []string{"bob"})
		carol := h.dbCert("carol", "roach", time.Hour)
		c, err := pgx.Connect(h.ctx, h.connString(carol, "bob", "postgres"))
		require.NoError(t, err)
		defer c.Close(h.ctx)
		_, err = c.Exec(h.ctx, "CREATE TABLE carols (x int)")
		require.NoError(t, err)
		_, err = c.Exec(h.ctx, "DELETE FROM orders")
		requireRefused(t, err, "no-unfiltered-writes")
	})

	t.Run("require_approval through an approved access request", func(t *testing.T) {
		h.addUser("dave", []string{"dev", "requester"}, []string{"carol"})
		dave := h.dbCert("dave", "roach", time.Hour)
		daveConn := h.connString(dave, "carol", "postgres")
		c, err := pgx.Connect(h.ctx, daveConn)
		require.NoError(t, err)
		_, err = c.Exec(h.ctx, "CREATE TABLE daves (x int)")
		requireRefused(t, err, "ddl-needs-approval")
		c.Close(h.ctx)
		daveCaller := control.Caller{Kind: control.CallerUser, Name: "dave", NotAfter: time.Now().Add(time.Hour)}
		req, err := h.svc.Requests().Create(h.ctx, daveCaller, wire.AccessRequestCreate{Roles: []string{"dba"}, Reason: "migration 42"})
		require.NoError(t, err)
		_, err = h.svc.Requests().Review(h.ctx, h.admin, req.ID, wire.ReviewVerdict{Verdict: schemas.VerdictApprove, Reason: "ok"})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			c, err := pgx.Connect(h.ctx, daveConn)
			if err != nil {
				return false
			}
			defer c.Close(h.ctx)
			_, err = c.Exec(h.ctx, "CREATE TABLE IF NOT EXISTS daves (x int)")
			return err == nil
		}, 20*time.Second, 100*time.Millisecond, "the granted role lets the DDL run")
		require.Equal(t, 0, h.superInt(t, "SELECT count(*) FROM daves"))
	})

	t.Run("hint names the request", func(t *testing.T) {
		c, err := pgx.Connect(h.ctx, conn)
		require.NoError(t, err)
		defer c.Close(h.ctx)
		_, err = c.Exec(h.ctx, "DROP TABLE orders")
		pe := requireRefused(t, err, "ddl-needs-approval")
		require.Contains(t, pe.Hint, "toll db connect roach --request-roles=dba")
	})

	t.Run("backslashes read as the server reads them", func(t *testing.T) {
		// With standard_conforming_strings off, 'a\' , ' is one string
		// and the DELETE after it is code.
		out, err := h.psql(alice, "alice", "postgres", "-c", "SET standard_conforming_strings = off",
			"-c", `SELECT 'a\' , ' ; DELETE FROM orders; --'`).CombinedOutput()
		require.Error(t, err, "psql says the last command failed")
		require.Contains(t, string(out), `statement refused by rule "no-unfiltered-writes"`, string(out))
		require.Equal(t, 2, h.superInt(t, "SELECT count(*) FROM orders"), "nothing was deleted")
	})

	t.Run("rules change under a live session, EXECUTE included", func(t *testing.T) {
		c, err := pgx.Connect(h.ctx, conn)
		require.NoError(t, err)
		defer c.Close(h.ctx)
		simple := pgx.QueryExecModeSimpleProtocol
		_, err = c.Exec(h.ctx, "PREPARE bump AS UPDATE orders SET n = n + 1 WHERE id = 2", simple)
		require.NoError(t, err)
		_, err = h.svc.Roles().Update(h.ctx, h.admin, devRole(schemas.StatementRule{Name: "orders-frozen", Statements: []string{"update"}, Tables: []string{"orders"}}))
		require.NoError(t, err)
		probe := 0
		require.Eventually(t, func() bool {
			probe++ // each probe its own text: those that ran before the rule are not the refused one
			_, err := c.Exec(h.ctx, "UPDATE orders SET n = n WHERE id = -"+itoa(uint64(probe)), simple)
			return err != nil
		}, 20*time.Second, 50*time.Millisecond, "the session takes the new rule")
		_, err = c.Exec(h.ctx, "EXECUTE bump", simple)
		requireRefused(t, err, "orders-frozen")
		require.Equal(t, 2, h.superInt(t, "SELECT n FROM orders WHERE id = 2"), "the prepared update did not run")
		_, err = h.svc.Roles().Update(h.ctx, h.admin, devRole())
		require.NoError(t, err)
	})

	h.requirePolicyAudit(t, "alice")

	// The session's transcript shows the refusal with its query.
	last := h.events(schemas.TypeQueryDenied)
	d := decode[schemas.QueryPolicy](t, last[len(last)-1])
	tr, err := h.svc.Audit().Session(h.ctx, h.admin, d.SessionID)
	require.NoError(t, err)
	found := false
	for _, q := range tr.Queries {
		if q.Query.N == d.N {
			require.Len(t, q.Policy, 1)
			require.Equal(t, schemas.TypeQueryDenied, q.Policy[0].Type)
			require.Equal(t, d, q.Policy[0].Match)
			found = true
		}
	}
	require.True(t, found)
}

// TestDryRunRulesRecordWhatTheyWouldRefuse: a role in dry_run mode blocks
// nothing; each statement it would refuse runs and has a
// query.would_deny; the others none.
func TestDryRunRulesRecordWhatTheyWouldRefuse(t *testing.T) {
	h := newHarness(t)
	h.pg.Exec(t, `CREATE TABLE public.orders (id int, n int); INSERT INTO public.orders VALUES (1, 1); GRANT ALL ON public.orders TO alice`)
	r := schemas.Role{Name: "readonly", Spec: schemas.RoleSpec{
		Options: schemas.RoleOptions{DBStatements: &schemas.StatementOptions{Mode: schemas.ModeDryRun}},
		Allow: schemas.RoleConditions{DBLabels: map[string][]string{"*": {"*"}}, DBUsers: []string{"{{internal.db_users}}"}, DBNames: []string{"*"},
			DBStatements: []schemas.StatementRule{{Name: "reads", Statements: []string{"select", "transaction", "set", "show"}}}},
	}}
	_, err := h.svc.Roles().Create(h.ctx, h.admin, r)
	require.NoError(t, err)
	h.addUser("alice", []string{"readonly"}, []string{"alice"})
	alice := h.dbCert("alice", "roach", time.Hour)
	c, err := pgx.Connect(h.ctx, h.connString(alice, "alice", "postgres"))
	require.NoError(t, err)
	defer c.Close(h.ctx)
	for _, sql := range []string{"SELECT count(*) FROM orders", "UPDATE orders SET n = 2 WHERE id = 1", "SHOW search_path", "DELETE FROM orders WHERE id = 1"} {
		_, err := c.Exec(h.ctx, sql)
		require.NoError(t, err, "dry run blocks nothing: %s", sql)
	}
	require.Zero(t, h.superInt(t, "SELECT count(*) FROM orders"), "the delete ran")
	require.Eventually(t, func() bool { return len(h.events(schemas.TypeQueryWouldDeny)) == 2 }, 20*time.Second, 50*time.Millisecond)
	queries := map[string]string{}
	for _, ev := range h.events(schemas.TypeQuery) {
		q := decode[schemas.Query](t, ev)
		queries[q.SessionID+"/"+itoa(q.N)] = q.Statement
	}
	var would []string
	for _, ev := range h.events(schemas.TypeQueryWouldDeny) {
		p := decode[schemas.QueryPolicy](t, ev)
		require.Equal(t, schemas.ActionNotAllowed, p.Action)
		require.Equal(t, "readonly", p.Role)
		would = append(would, queries[p.SessionID+"/"+itoa(p.N)])
	}
	require.Equal(t, []string{"UPDATE orders SET n = 2 WHERE id = 1", "DELETE FROM orders WHERE id = 1"}, would)
	require.Empty(t, h.events(schemas.TypeQueryDenied))
}

// judgeCases runs each case on one connection in mode and checks the
// client's answer.
func (h *harness) judgeCases(t *testing.T, conn string, mode pgx.QueryExecMode, cases []policyCase) {
	c, err := pgx.Connect(h.ctx, conn)
	require.NoError(t, err)
	defer c.Close(h.ctx)
	for _, tc := range cases {
		_, err := c.Exec(h.ctx, tc.sql, mode)
		if tc.rule == "" {
			require.NoError(t, err, tc.name)
			continue
		}
		requireRefused(t, err, tc.rule)
		// The connection goes on.
		var one int
		require.NoError(t, c.QueryRow(h.ctx, "SELECT 1", mode).Scan(&one), tc.name)
	}
}

// superInt is the one integer sql returns, asked as the superuser
// (directly, not through the agent).
func (h *harness) superInt(t *testing.T, sql string) int {
	t.Helper()
	c, err := h.pg.Connect(h.ctx)
	require.NoError(t, err)
	defer c.Close(h.ctx)
	var n int
	require.NoError(t, c.QueryRow(h.ctx, sql).Scan(&n))
	return n
}

func requireRefused(t *testing.T, err error, rule string) *pgconn.PgError {
	t.Helper()
	var pe *pgconn.PgError
	require.True(t, errors.As(err, &pe), "want a refusal by %s, got %v", rule, err)
	require.Equal(t, "42501", pe.Code, pe.Message)
	require.Contains(t, pe.Message, `statement refused by rule "`+rule+`"`)
	return pe
}

// requirePolicyAudit checks user's sessions: every refused query has its
// query.denied and a not-executed result, its text is nowhere in the
// server's log, and the audit and the log agree statement by statement.
func (h *harness) requirePolicyAudit(t *testing.T, user string) {
	t.Helper()
	denied := map[string]schemas.QueryPolicy{}
	for _, ev := range h.events(schemas.TypeQueryDenied) {
		d := decode[schemas.QueryPolicy](t, ev)
		denied[d.SessionID+"/"+itoa(d.N)] = d
	}
	require.NotEmpty(t, denied)
	bySession := map[string][]eventlog.Event{}
	var order []string
	log := h.pg.LogContents()
	for _, ev := range h.events("") {
		if ev.Actor != user || (ev.Type != schemas.TypeQuery && ev.Type != schemas.TypeQueryResult) {
			continue
		}
		var d struct {
			SessionID string `json:"session_id"`
			N         uint64 `json:"n"`
		}
		require.NoError(t, json.Unmarshal(ev.Data, &d))
		if _, ok := bySession[d.SessionID]; !ok {
			order = append(order, d.SessionID)
		}
		bySession[d.SessionID] = append(bySession[d.SessionID], ev)
		if ev.Type == schemas.TypeQueryResult {
			if _, ok := denied[d.SessionID+"/"+itoa(d.N)]; ok {
				r := decode[schemas.QueryResult](t, ev)
				require.Equal(t, schemas.ResultError, r.Status)
				require.Equal(t, "42501", r.SQLState)
				require.True(t, strings.HasPrefix(r.Error, "not executed"), r.Error)
			}
			continue
		}
		q := decode[schemas.Query](t, ev)
		if _, ok := denied[d.SessionID+"/"+itoa(d.N)]; ok {
			require.NotContains(t, log, "statement: "+q.Statement+"\n", "a refused statement reached the server")
			require.NotContains(t, log, ": "+q.Statement+"\n", "a refused statement reached the server")
		}
	}
	logged := difftest.Logged(log, "["+user+"] LOG:  ")
	// The sessions ran one after another: one sequence, numbered apart.
	var all []eventlog.Event
	for i, s := range order {
		for _, ev := range bySession[s] {
			var m map[string]any
			require.NoError(t, json.Unmarshal(ev.Data, &m))
			m["n"] = m["n"].(float64) + float64(1000*(i+1))
			var err error
			ev.Data, err = json.Marshal(m)
			require.NoError(t, err)
			all = append(all, ev)
		}
	}
	require.Empty(t, difftest.Compare(logged, all), "the audit and the server's log agree statement by statement")
}
