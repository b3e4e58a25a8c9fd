package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/schemas"
)

func TestParseConnector(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.pem"), []byte("PEM"), 0o600))
	good := `kind: oidc
version: v3
metadata:
  name: corp
spec:
  issuer_url: https://idp.example.com
  client_id: tollgate
  client_secret: s3cret
  scope: [email, groups]
  claims_to_roles:
    - {claim: groups, value: dba, roles: [access, requester]}
  traits:
    db_users: "{{email.local}}"
  ca_file: ca.pem
`
	c, err := parseConnector(filepath.Join(dir, "oidc.yaml"), []byte(good))
	require.NoError(t, err)
	require.Equal(t, "corp", c.Name)
	require.Equal(t, "s3cret", c.ClientSecret)
	require.Equal(t, []string{"email", "groups"}, c.Scopes)
	require.Equal(t, []schemas.ClaimMapping{{Claim: "groups", Value: "dba", Roles: []string{"access", "requester"}}}, c.ClaimsToRoles)
	require.Equal(t, map[string][]string{"db_users": {"{{email.local}}"}}, c.Traits)
	require.Equal(t, "PEM", c.CAPEM)

	for _, tc := range []struct{ name, file, want string }{
		{"empty", "", "empty file"},
		{"kind", "kind: role\nmetadata: {name: x}\n", `kind is "role"`},
		{"no name", "kind: oidc\nspec: {issuer_url: https://x}\n", "metadata.name is required"},
		{"unknown field", "kind: oidc\nmetadata: {name: x}\nspec:\n  issuer: https://x\n", "oidc.yaml:4: spec.issuer: unknown field"},
		{"mapping without roles", "kind: oidc\nmetadata: {name: x}\nspec:\n  claims_to_roles:\n    - {claim: groups, value: dba}\n", "spec.claims_to_roles[0]: a mapping needs"},
		{"missing ca", "kind: oidc\nmetadata: {name: x}\nspec:\n  ca_file: nope.pem\n", "spec.ca_file"},
	} {
		_, err := parseConnector(filepath.Join(dir, "oidc.yaml"), []byte(tc.file))
		require.ErrorContains(t, err, tc.want, tc.name)
	}
}
