package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/schemas"
)

// TestParseRoleRequestFields: allow.request (roles, max_duration,
// thresholds) and allow.review_requests read as Teleport writes them; a
// bad duration or count names its line and field.
func TestParseRoleRequestFields(t *testing.T) {
	t.Parallel()
	r, err := parseRole("oncall.yaml", []byte(`kind: role
version: v7
metadata:
  name: oncall
spec:
  allow:
    request:
      roles: [dba]
      max_duration: 4h
      thresholds:
      - approve: 2
        deny: 1
    review_requests:
      roles: ['*']
  deny:
    request:
      roles: editor
`))
	require.NoError(t, err)
	require.Equal(t, &schemas.RequestConditions{Roles: []string{"dba"}, MaxDuration: "4h",
		Thresholds: []schemas.Threshold{{Approve: 2, Deny: 1}}}, r.Spec.Allow.Request)
	require.Equal(t, &schemas.ReviewConditions{Roles: []string{"*"}}, r.Spec.Allow.ReviewRequests)
	require.Equal(t, []string{"editor"}, r.Spec.Deny.Request.Roles)

	for _, tc := range []struct{ body, want string }{
		{"    request:\n      max_duration: soon\n", "x.yaml:7: spec.allow.request.max_duration: \"soon\" is not a positive duration"},
		{"    request:\n      thresholds:\n      - approve: 0\n", "x.yaml:8: spec.allow.request.thresholds[0].approve: expected a count of reviews"},
		{"    review_requests:\n      who: [dba]\n", "x.yaml:7: spec.allow.review_requests.who: unknown field"},
	} {
		_, err := parseRole("x.yaml", []byte("kind: role\nmetadata:\n  name: x\nspec:\n  allow:\n"+tc.body))
		require.ErrorContains(t, err, tc.want)
	}
}

// TestParseRoleRequireMFA: options.require_mfa takes login, and says so
// for anything else.
func TestParseRoleRequireMFA(t *testing.T) {
	t.Parallel()
	head := "kind: role\nmetadata:\n  name: x\nspec:\n  options:\n    require_mfa: "
	r, err := parseRole("x.yaml", []byte(head+"login\n"))
	require.NoError(t, err)
	require.Equal(t, schemas.RequireMFALogin, r.Spec.Options.RequireMFA)
	_, err = parseRole("x.yaml", []byte(head+"always\n"))
	require.ErrorContains(t, err, `x.yaml:6: spec.options.require_mfa: "always": use login`)
}

// TestParseRoleStatementRules: allow/deny db_statements and
// options.db_statements read from a role file; a bad field names its line.
func TestParseRoleStatementRules(t *testing.T) {
	t.Parallel()
	r, err := parseRole("dev.yaml", []byte(`kind: role
version: v7
metadata:
  name: dev
spec:
  options:
    db_statements:
      mode: dry_run
      unparseable: allow
  allow:
    db_statements:
    - name: reads
      statements: [select, show]
      tables: ["public.*", orders]
  deny:
    db_statements:
    - name: no-unfiltered-writes
      statements: [update, delete]
      without_where: true
    - name: ddl-needs-approval
      statements: ddl
      action: require_approval
      request_roles: [dba]
    - name: no-files
      functions: [pg_read_file]
`))
	require.NoError(t, err)
	require.Equal(t, &schemas.StatementOptions{Mode: schemas.ModeDryRun, Unparseable: schemas.UnparseableAllow}, r.Spec.Options.DBStatements)
	require.Equal(t, []schemas.StatementRule{{Name: "reads", Statements: []string{"select", "show"}, Tables: []string{"public.*", "orders"}}}, r.Spec.Allow.DBStatements)
	require.Equal(t, []schemas.StatementRule{
		{Name: "no-unfiltered-writes", Statements: []string{"update", "delete"}, WithoutWhere: true},
		{Name: "ddl-needs-approval", Statements: []string{"ddl"}, Action: schemas.ActionRequireApproval, RequestRoles: []string{"dba"}},
		{Name: "no-files", Functions: []string{"pg_read_file"}},
	}, r.Spec.Deny.DBStatements)

	for _, tc := range []struct{ body, want string }{
		{"  deny:\n    db_statements:\n    - statements: [delete]\n", "x.yaml:7: spec.deny.db_statements[0].name: is required"},
		{"  deny:\n    db_statements:\n    - name: r\n      without_where: yes please\n", "x.yaml:8: spec.deny.db_statements[0].without_where: expected true or false"},
		{"  deny:\n    db_statements:\n    - name: r\n      verbs: [delete]\n", "x.yaml:8: spec.deny.db_statements[0].verbs: unknown field"},
		{"  options:\n    db_statements:\n      mode: maybe\n", `x.yaml:7: spec.options.db_statements.mode: "maybe": use enforce or dry_run`},
		{"  deny:\n    db_statements: delete\n", "x.yaml:6: spec.deny.db_statements: expected a list of statement rules"},
	} {
		_, err := parseRole("x.yaml", []byte("kind: role\nmetadata:\n  name: x\nspec:\n"+tc.body))
		require.ErrorContains(t, err, tc.want)
	}
}
