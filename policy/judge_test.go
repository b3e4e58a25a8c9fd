package policy

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/schemas"
)

func role(name string, allow, deny []schemas.StatementRule, opts *schemas.StatementOptions) schemas.Role {
	r := schemas.Role{Name: name}
	r.Spec.Allow.DBStatements, r.Spec.Deny.DBStatements, r.Spec.Options.DBStatements = allow, deny, opts
	return r
}

func stmt(ops ...Op) Facts { return Facts{Statements: []Statement{{Index: 1, Ops: ops}}} }

func tbl(s, n string) Table { return Table{Schema: s, Name: n} }

// TestJudgeByRuleKind: each rule kind refuses what it names and lets the
// rest run, with the rule and action recorded.
func TestJudgeByRuleKind(t *testing.T) {
	t.Parallel()
	noWhere := schemas.StatementRule{Name: "no-unfiltered", Statements: []string{"update", "delete"}, WithoutWhere: true}
	payments := schemas.StatementRule{Name: "payments-ro", Statements: []string{"insert", "update", "delete", "truncate"}, Tables: []string{"public.payments"}}
	fns := schemas.StatementRule{Name: "no-files", Functions: []string{"pg_read_file", "lo_*"}}
	ddl := schemas.StatementRule{Name: "no-ddl", Statements: []string{"ddl"}, Action: schemas.ActionRequireApproval, RequestRoles: []string{"dba"}}
	logTrunc := schemas.StatementRule{Name: "watch-truncate", Statements: []string{"truncate"}, Action: schemas.ActionLogOnly}
	set := mustSet(t, []schemas.Role{role("dev", nil, []schemas.StatementRule{noWhere, payments, fns, ddl, logTrunc}, nil)}, map[string]bool{"dev": true})

	for _, tc := range []struct {
		name         string
		facts        Facts
		rule, action string
		flagged      string
	}{
		{name: "select runs", facts: stmt(Op{Class: ClassSelect, Tables: []Table{tbl("", "payments")}})},
		{name: "delete with where runs", facts: stmt(Op{Class: ClassDelete, Tables: []Table{tbl("", "orders")}})},
		{name: "delete without where refused", facts: stmt(Op{Class: ClassDelete, Tables: []Table{tbl("", "orders")}, NoWhere: true}), rule: "no-unfiltered", action: schemas.ActionDeny},
		{name: "insert into qualified payments refused", facts: stmt(Op{Class: ClassInsert, Tables: []Table{tbl("public", "payments")}}), rule: "payments-ro", action: schemas.ActionDeny},
		{name: "unqualified payments may be public.payments", facts: stmt(Op{Class: ClassUpdate, Tables: []Table{tbl("", "PAYMENTS")}}), rule: "payments-ro", action: schemas.ActionDeny},
		{name: "another schema's payments runs", facts: stmt(Op{Class: ClassUpdate, Tables: []Table{tbl("archive", "payments")}})},
		{name: "function by last part", facts: Facts{Statements: []Statement{{Index: 1, Ops: []Op{{Class: ClassSelect}}, Functions: []string{"pg_catalog.pg_read_file"}}}}, rule: "no-files", action: schemas.ActionDeny},
		{name: "function glob", facts: Facts{Statements: []Statement{{Index: 1, Ops: []Op{{Class: ClassSelect}}, Functions: []string{"lo_import"}}}}, rule: "no-files", action: schemas.ActionDeny},
		{name: "ddl needs approval", facts: stmt(Op{Class: ClassDDL, Tables: []Table{tbl("", "t")}}), rule: "no-ddl", action: schemas.ActionRequireApproval},
		{name: "log only runs flagged", facts: stmt(Op{Class: ClassTruncate, Tables: []Table{tbl("", "t")}}), flagged: "watch-truncate"},
		{name: "second statement named", facts: Facts{Statements: []Statement{{Index: 1, Ops: []Op{{Class: ClassSelect}}}, {Index: 2, Ops: []Op{{Class: ClassDelete, NoWhere: true}}}}}, rule: "no-unfiltered", action: schemas.ActionDeny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := set.Judge(&tc.facts, nil)
			if tc.rule == "" {
				require.Nil(t, v.Deny)
			} else {
				require.NotNil(t, v.Deny)
				require.Equal(t, tc.rule, v.Deny.Rule)
				require.Equal(t, tc.action, v.Deny.Action)
				require.Equal(t, "dev", v.Deny.Role)
				require.Equal(t, tc.facts.Statements[len(tc.facts.Statements)-1].Index, v.Deny.Statement)
			}
			if tc.flagged != "" {
				require.NotNil(t, v.Flag)
				require.Equal(t, tc.flagged, v.Flag.Rule)
			}
			require.Nil(t, v.WouldDeny)
		})
	}
}

func mustSet(t *testing.T, roles []schemas.Role, admitting map[string]bool) *Set {
	t.Helper()
	s, err := NewSet(roles, admitting)
	require.NoError(t, err)
	require.NotNil(t, s)
	return s
}

// TestRequireApprovalLetsAGrantedRoleRun: holding a request role (as a
// grant adds it) lets the statement run.
func TestRequireApprovalLetsAGrantedRoleRun(t *testing.T) {
	t.Parallel()
	ddl := schemas.StatementRule{Name: "no-ddl", Statements: []string{"ddl"}, Action: schemas.ActionRequireApproval, RequestRoles: []string{"dba"}}
	roles := []schemas.Role{role("dev", nil, []schemas.StatementRule{ddl}, nil)}
	f := stmt(Op{Class: ClassDDL})
	require.NotNil(t, mustSet(t, roles, map[string]bool{"dev": true}).Judge(&f, nil).Deny)
	granted := append(roles, schemas.Role{Name: "dba"})
	require.Nil(t, mustSet(t, granted, map[string]bool{"dev": true}).Judge(&f, nil).Deny)
}

// TestAllowlist: when every admitting role has allow rules, each operation
// must be covered; a role without them admits everything.
func TestAllowlist(t *testing.T) {
	t.Parallel()
	ro := role("analyst", []schemas.StatementRule{
		{Name: "read", Statements: []string{"select", "show", "set", "transaction"}, Tables: []string{"orders", "public.customers"}},
	}, nil, nil)
	set := mustSet(t, []schemas.Role{ro}, map[string]bool{"analyst": true})
	for _, tc := range []struct {
		name    string
		facts   Facts
		refused bool
	}{
		{"select of an allowed table", stmt(Op{Class: ClassSelect, Tables: []Table{tbl("", "orders")}}), false},
		{"select of no table", stmt(Op{Class: ClassSelect}), false},
		{"qualified pattern covers the qualified name", stmt(Op{Class: ClassSelect, Tables: []Table{tbl("public", "customers")}}), false},
		{"qualified pattern does not cover an unqualified name", stmt(Op{Class: ClassSelect, Tables: []Table{tbl("", "customers")}}), true},
		{"a join with another table", stmt(Op{Class: ClassSelect, Tables: []Table{tbl("", "orders"), tbl("", "secrets")}}), true},
		{"a delete", stmt(Op{Class: ClassDelete, Tables: []Table{tbl("", "orders")}}), true},
		{"a delete hidden in a CTE", stmt(Op{Class: ClassSelect}, Op{Class: ClassDelete, Tables: []Table{tbl("", "orders")}}), true},
		{"explain of a select is covered by the select", stmt(Op{Class: ClassExplain}, Op{Class: ClassSelect, Tables: []Table{tbl("", "orders")}}), false},
		{"an unresolved execute", Facts{Statements: []Statement{{Index: 1, Ops: []Op{{Class: ClassExecute}}, Executes: []string{"x"}}}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := set.Judge(&tc.facts, nil)
			require.Equal(t, tc.refused, v.Deny != nil, "%+v", v.Deny)
			if tc.refused {
				require.Equal(t, schemas.ActionNotAllowed, v.Deny.Action)
				require.Equal(t, "analyst", v.Deny.Role)
			}
		})
	}
	open := mustSet(t, []schemas.Role{ro, {Name: "access"}}, map[string]bool{"analyst": true, "access": true})
	f := stmt(Op{Class: ClassDelete, Tables: []Table{tbl("", "orders")}})
	require.Nil(t, open.Judge(&f, nil).Deny, "a role without allow rules admits every statement")
	notAdmitting := mustSet(t, []schemas.Role{ro, {Name: "access"}}, map[string]bool{"analyst": true})
	require.NotNil(t, notAdmitting.Judge(&f, nil).Deny, "a role that does not admit the session adds nothing")
	none, err := NewSet([]schemas.Role{ro, {Name: "access"}}, map[string]bool{"access": true})
	require.NoError(t, err)
	require.Nil(t, none, "allow rules of a role that does not admit the session are nothing to judge")
}

// TestExecuteIsJudgedByItsPreparedStatement: EXECUTE runs what was
// prepared; the resolver's facts are judged.
func TestExecuteIsJudgedByItsPreparedStatement(t *testing.T) {
	t.Parallel()
	set := mustSet(t, []schemas.Role{role("dev", []schemas.StatementRule{{Name: "read", Statements: []string{"select"}}},
		[]schemas.StatementRule{{Name: "no-deletes", Statements: []string{"delete"}}}, nil)}, map[string]bool{"dev": true})
	exec := Facts{Statements: []Statement{{Index: 1, Ops: []Op{{Class: ClassExecute}}, Executes: []string{"x"}}}}
	prepared := map[string]Facts{"x": stmt(Op{Class: ClassPrepare}, Op{Class: ClassDelete}), "y": stmt(Op{Class: ClassPrepare}, Op{Class: ClassSelect})}
	resolve := func(name string) (*Facts, bool) { f, ok := prepared[name]; return &f, ok }
	v := set.Judge(&exec, resolve)
	require.NotNil(t, v.Deny)
	require.Equal(t, "no-deletes", v.Deny.Rule)
	exec.Statements[0].Executes = []string{"y"}
	require.Nil(t, set.Judge(&exec, resolve).Deny)
	require.Equal(t, []Op{{Class: ClassExecute}}, exec.Statements[0].Ops, "the facts judged are not changed")
	// An unknown name first, then a known one: still no write into the
	// judged facts' arrays (cached facts are shared by every session).
	shared := make([]Op, 1, 8)
	shared[0] = Op{Class: ClassExecute}
	two := Facts{Statements: []Statement{{Index: 1, Ops: shared, Executes: []string{"unknown", "x"}}}}
	require.NotNil(t, set.Judge(&two, resolve).Deny)
	require.Equal(t, Op{}, shared[:2][1], "nothing appended into the shared array")
}

// TestDryRunRecordsWouldDeny: a dry-run role blocks nothing; the second
// judgment says what it would have refused.
func TestDryRunRecordsWouldDeny(t *testing.T) {
	t.Parallel()
	dry := &schemas.StatementOptions{Mode: schemas.ModeDryRun}
	set := mustSet(t, []schemas.Role{role("proposed", []schemas.StatementRule{{Name: "read", Statements: []string{"select"}}},
		[]schemas.StatementRule{{Name: "no-truncate", Statements: []string{"truncate"}}}, dry)}, map[string]bool{"proposed": true})
	require.True(t, set.hasDryRun, "the set judges twice")
	f := stmt(Op{Class: ClassTruncate})
	v := set.Judge(&f, nil)
	require.Nil(t, v.Deny)
	require.NotNil(t, v.WouldDeny)
	require.Equal(t, "no-truncate", v.WouldDeny.Rule)
	f = stmt(Op{Class: ClassInsert})
	v = set.Judge(&f, nil)
	require.Nil(t, v.Deny, "a dry-run allowlist does not enforce")
	require.Equal(t, schemas.ActionNotAllowed, v.WouldDeny.Action)
	f = stmt(Op{Class: ClassSelect})
	require.Equal(t, Verdict{}, set.Judge(&f, nil))
}

// TestUnparseable: refused unless every role with rules allows it; then
// flagged, never silent.
func TestUnparseable(t *testing.T) {
	t.Parallel()
	bad := Facts{Unparseable: `syntax error at or near "UPSERT"`}
	deny := role("dev", nil, []schemas.StatementRule{{Name: "r", Statements: []string{"delete"}}}, nil)
	allow := role("crdb", nil, []schemas.StatementRule{{Name: "r", Statements: []string{"delete"}}}, &schemas.StatementOptions{Unparseable: schemas.UnparseableAllow})
	v := mustSet(t, []schemas.Role{deny, allow}, nil).Judge(&bad, nil)
	require.NotNil(t, v.Deny)
	require.Equal(t, schemas.ActionUnparseable, v.Deny.Action)
	require.Equal(t, "dev", v.Deny.Role)
	v = mustSet(t, []schemas.Role{allow}, nil).Judge(&bad, nil)
	require.Nil(t, v.Deny)
	require.NotNil(t, v.Flag)
	require.Equal(t, schemas.ActionUnparseable, v.Flag.Action)
}

// TestNoRulesNoSet: roles without statement rules give no set (nothing is
// parsed).
func TestNoRulesNoSet(t *testing.T) {
	t.Parallel()
	s, err := NewSet([]schemas.Role{{Name: "access"}}, map[string]bool{"access": true})
	require.NoError(t, err)
	require.Nil(t, s)
	f := stmt(Op{Class: ClassDelete})
	require.Equal(t, Verdict{}, s.Judge(&f, nil))
}

// TestCheckRefusesBadRules: what control refuses, each with a message that
// says what to do.
func TestCheckRefusesBadRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		spec schemas.RoleSpec
		want string
	}{
		{"no name", specDeny(schemas.StatementRule{Statements: []string{"delete"}}), "needs a name"},
		{"unknown class", specDeny(schemas.StatementRule{Name: "r", Statements: []string{"delet"}}), `unknown statement class "delet"`},
		{"matches everything", specDeny(schemas.StatementRule{Name: "r"}), "would match every statement"},
		{"bad action", specDeny(schemas.StatementRule{Name: "r", Statements: []string{"delete"}, Action: "block"}), `action "block"`},
		{"approval without roles", specDeny(schemas.StatementRule{Name: "r", Statements: []string{"ddl"}, Action: schemas.ActionRequireApproval}), "needs request_roles"},
		{"without_where on select", specDeny(schemas.StatementRule{Name: "r", Statements: []string{"select"}, WithoutWhere: true}), "update and delete only"},
		{"bad table pattern", specDeny(schemas.StatementRule{Name: "r", Tables: []string{"a.b.c"}}), "table pattern"},
		{"bad glob", specDeny(schemas.StatementRule{Name: "r", Functions: []string{"[x"}}), "function pattern"},
		{"action in allow", schemas.RoleSpec{Allow: schemas.RoleConditions{DBStatements: []schemas.StatementRule{{Name: "r", Action: "deny"}}}}, "allow rules take no action"},
		{"functions in allow", schemas.RoleSpec{Allow: schemas.RoleConditions{DBStatements: []schemas.StatementRule{{Name: "r", Functions: []string{"f"}}}}}, "for deny rules"},
		{"twice the same name", specDeny(schemas.StatementRule{Name: "r", Statements: []string{"delete"}}, schemas.StatementRule{Name: "r", Statements: []string{"update"}}), "used twice"},
		{"bad mode", schemas.RoleSpec{Options: schemas.RoleOptions{DBStatements: &schemas.StatementOptions{Mode: "try"}}}, "use enforce or dry_run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.spec)
			require.ErrorIs(t, err, ErrInvalidRule)
			require.ErrorContains(t, err, tc.want)
		})
	}
	require.NoError(t, Check(specDeny(schemas.StatementRule{Name: "r", Statements: []string{"DELETE"}, Tables: []string{"*.secret_*"}})))
}

func specDeny(rs ...schemas.StatementRule) schemas.RoleSpec {
	return schemas.RoleSpec{Deny: schemas.RoleConditions{DBStatements: rs}}
}
