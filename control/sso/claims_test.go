package sso_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/sso"
	"github.com/tollgate-db/tollgate/schemas"
)

func TestExpandTraitTemplates(t *testing.T) {
	t.Parallel()
	claims := sso.Claims{"email": "alice@example.com", "groups": []any{"eng", "dba"}, "n": float64(7), "obj": map[string]any{"a": "b"}}
	for _, tc := range []struct {
		tmpl string
		want []string
	}{
		{"readonly", []string{"readonly"}},
		{"{{email}}", []string{"alice@example.com"}},
		{"{{email.local}}", []string{"alice"}},
		{"{{ email.local }}", []string{"alice"}},
		{"u_{{email.local}}_x", []string{"u_alice_x"}},
		{"{{groups}}", []string{"eng", "dba"}},
		{"team-{{groups}}", []string{"team-eng", "team-dba"}},
		{"{{n}}", []string{"7"}},
		{"{{missing}}", nil},
		{"x{{missing}}", nil},
		{"{{obj}}", nil},
		{"{{groups.local}}", nil}, // no @ in them
		{"{{email", nil},
	} {
		require.Equal(t, tc.want, sso.Expand(tc.tmpl, claims), tc.tmpl)
	}
}

func TestCheckTemplate(t *testing.T) {
	t.Parallel()
	for tmpl, ok := range map[string]bool{
		"plain": true, "{{email}}": true, "{{email.local}}": true, "a{{x}}b{{y.local}}": true,
		"{{email": false, "email}}": false, "{{}}": false, "{{email.upper}}": false, "{{.local}}": false,
	} {
		err := sso.CheckTemplate(tmpl)
		require.Equal(t, ok, err == nil, "%s: %v", tmpl, err)
	}
}

func TestMapClaims(t *testing.T) {
	t.Parallel()
	conn := schemas.OIDCConnector{Name: "corp", ClaimsToRoles: []schemas.ClaimMapping{
		{Claim: "groups", Value: "dba", Roles: []string{"requester", "access"}},
		{Claim: "groups", Value: "eng", Roles: []string{"access"}},
		{Claim: "email_verified", Value: "true", Roles: []string{"auditor"}},
		{Claim: "hd", Value: "*", Roles: []string{"viewer"}},
	}}
	for _, tc := range []struct {
		name   string
		conn   func(c *schemas.OIDCConnector)
		claims sso.Claims
		want   sso.Identity
		err    error
	}{
		{name: "roles of every match, sorted and once",
			claims: sso.Claims{"email": "a@x", "groups": []any{"dba", "eng"}, "email_verified": true},
			want:   sso.Identity{User: "a@x", Roles: []string{"access", "auditor", "requester"}}},
		{name: "wildcard value", claims: sso.Claims{"email": "a@x", "hd": "x.com"},
			want: sso.Identity{User: "a@x", Roles: []string{"viewer"}}},
		{name: "no match", claims: sso.Claims{"email": "a@x", "groups": []any{"sales"}}, err: sso.ErrNoRoles},
		{name: "unverified email", claims: sso.Claims{"email": "a@x", "email_verified": false, "groups": []any{"dba"}}, err: sso.ErrUnverifiedEmail},
		{name: "unverified email, another username claim", conn: func(c *schemas.OIDCConnector) { c.UsernameClaim = "sub" },
			claims: sso.Claims{"sub": "u1", "email": "a@x", "email_verified": false, "groups": []any{"eng"}},
			want:   sso.Identity{User: "u1", Roles: []string{"access"}}},
		{name: "no username", claims: sso.Claims{"groups": []any{"dba"}}, err: sso.ErrNoUsername},
		{name: "list username", claims: sso.Claims{"email": []any{"a@x", "b@x"}, "groups": []any{"dba"}}, err: sso.ErrNoUsername},
		{name: "username claim", conn: func(c *schemas.OIDCConnector) { c.UsernameClaim = "preferred_username" },
			claims: sso.Claims{"email": "a@x", "preferred_username": "alice", "groups": "eng"},
			want:   sso.Identity{User: "alice", Roles: []string{"access"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := conn
			if tc.conn != nil {
				tc.conn(&c)
			}
			id, err := sso.Map(c, tc.claims)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, id)
		})
	}
}

func TestSealedValuesOpenOnlyUnchangedAndInTime(t *testing.T) {
	t.Parallel()
	key := make([]byte, sso.KeySize)
	key[0] = 1
	s, err := sso.NewSealer(key)
	require.NoError(t, err)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	text, err := s.Seal("flow", now.Add(time.Minute), sso.Flow{Connector: "corp", Nonce: "n"})
	require.NoError(t, err)
	var f sso.Flow
	require.NoError(t, s.Open("flow", text, now, &f))
	require.Equal(t, "corp", f.Connector)
	require.ErrorIs(t, s.Open("flow", text, now.Add(time.Minute), &f), sso.ErrSealed, "expired")
	require.ErrorIs(t, s.Open("verified", text, now, &f), sso.ErrSealed, "other purpose")
	b := []byte(text)
	b[len(b)/2] ^= 1
	require.ErrorIs(t, s.Open("flow", string(b), now, &f), sso.ErrSealed, "changed")
	key[0] = 2
	other, err := sso.NewSealer(key)
	require.NoError(t, err)
	require.ErrorIs(t, other.Open("flow", text, now, &f), sso.ErrSealed, "other key")
	_, err = sso.NewSealer(key[:16])
	require.Error(t, err)
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{"{{email.local}}", "a{{groups}}b", "{{", "}}{{x}}", "{{ a.local }}{{b}}"} {
		f.Add(s)
	}
	claims := sso.Claims{"email": "alice@example.com", "groups": []any{"eng", "dba"}, "a": "x@y", "b": "z"}
	f.Fuzz(func(t *testing.T, tmpl string) {
		out := sso.Expand(tmpl, claims)
		if sso.CheckTemplate(tmpl) == nil && !containsBraces(tmpl) && (len(out) != 1 || out[0] != tmpl) && tmpl != "" {
			t.Fatalf("literal %q expanded to %q", tmpl, out)
		}
		for _, o := range out {
			if o == "" {
				t.Fatalf("%q gave an empty value", tmpl)
			}
		}
	})
}

func containsBraces(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '{' && s[i+1] == '{' {
			return true
		}
	}
	return false
}
