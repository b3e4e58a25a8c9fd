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
