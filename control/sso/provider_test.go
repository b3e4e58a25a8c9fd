package sso_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/sso"
	"github.com/tollgate-db/tollgate/internal/oidctest"
	"github.com/tollgate-db/tollgate/schemas"
)

// callback is the loopback listener a login comes back to.
type callback struct {
	srv  *httptest.Server
	got  chan url.Values
	path string
}

func newCallback(t *testing.T) *callback {
	cb := &callback{got: make(chan url.Values, 1), path: "/callback"}
	cb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cb.got <- r.URL.Query()
		_, _ = w.Write([]byte("logged in"))
	}))
	t.Cleanup(cb.srv.Close)
	return cb
}

func (cb *callback) url() string { return cb.srv.URL + cb.path }

// login runs a flow with conn against the provider as alice and returns
// the callback's query and the provider for the exchange.
func login(t *testing.T, conn schemas.OIDCConnector, secret string) (url.Values, *sso.Provider, sso.Flow) {
	t.Helper()
	ctx := context.Background()
	cb := newCallback(t)
	flow, err := sso.NewFlow(conn.Name, cb.url())
	require.NoError(t, err)
	p, err := sso.Discover(ctx, conn, secret, flow)
	require.NoError(t, err)
	status, body, err := oidctest.Login(ctx, p.AuthURL("state-1"), "alice", "alice-idp-pw")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, body)
	q := <-cb.got
	require.Equal(t, "state-1", q.Get("state"))
	require.NotEmpty(t, q.Get("code"))
	return q, p, flow
}

// TestLoginAgainstARealProvider: a public client (PKCE only) and a
// confidential one log in through the provider's form; the exchange
// verifies the ID token and merges the userinfo, whose claims map to the
// user, its roles and its traits. A code exchanged twice, or with another
// flow's PKCE verifier or nonce, is refused.
func TestLoginAgainstARealProvider(t *testing.T) {
	t.Parallel()
	idp := oidctest.Start(oidctest.User{ID: "u1", Username: "alice", Password: "alice-idp-pw",
		Email: "alice@example.com", Groups: []string{"eng", "dba"}})
	t.Cleanup(idp.Close)
	conn := schemas.OIDCConnector{Name: "corp", IssuerURL: idp.Issuer, ClientID: oidctest.NativeClient,
		Scopes: []string{"email", "profile", "groups"},
		ClaimsToRoles: []schemas.ClaimMapping{
			{Claim: "groups", Value: "dba", Roles: []string{"access", "requester"}},
			{Claim: "groups", Value: "finance", Roles: []string{"editor"}},
		},
		Traits: map[string][]string{"db_users": {"{{email.local}}"}, "db_names": {"*"}}}
	ctx := context.Background()
	for _, tc := range []struct {
		name, client, secret string
	}{
		{"public client", oidctest.NativeClient, ""},
		{"confidential client", oidctest.WebClient, oidctest.WebSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := conn
			c.ClientID = tc.client
			q, p, _ := login(t, c, tc.secret)
			claims, err := p.Exchange(ctx, q.Get("code"))
			require.NoError(t, err)
			id, err := sso.Map(c, claims)
			require.NoError(t, err)
			require.Equal(t, sso.Identity{User: "alice@example.com", Roles: []string{"access", "requester"},
				Traits: map[string][]string{"db_users": {"alice"}, "db_names": {"*"}}}, id)
			_, err = p.Exchange(ctx, q.Get("code"))
			require.ErrorIs(t, err, sso.ErrProvider, "a code is good once")
		})
	}
	t.Run("another flow's verifier", func(t *testing.T) {
		q, _, flow := login(t, conn, "")
		other, err := sso.NewFlow(conn.Name, flow.Redirect)
		require.NoError(t, err)
		other.Nonce = flow.Nonce
		p, err := sso.Discover(ctx, conn, "", other)
		require.NoError(t, err)
		_, err = p.Exchange(ctx, q.Get("code"))
		require.ErrorIs(t, err, sso.ErrProvider)
		require.ErrorContains(t, err, "invalid code_verifier")
	})
	t.Run("another flow's nonce", func(t *testing.T) {
		q, _, flow := login(t, conn, "")
		flow.Nonce = "not-the-one-sent"
		p, err := sso.Discover(ctx, conn, "", flow)
		require.NoError(t, err)
		_, err = p.Exchange(ctx, q.Get("code"))
		require.ErrorIs(t, err, sso.ErrProvider)
		require.ErrorContains(t, err, "nonce does not match")
	})
	t.Run("wrong client secret", func(t *testing.T) {
		c := conn
		c.ClientID = oidctest.WebClient
		q, _, flow := login(t, c, oidctest.WebSecret)
		p, err := sso.Discover(ctx, c, "not-the-secret", flow)
		require.NoError(t, err)
		_, err = p.Exchange(ctx, q.Get("code"))
		require.ErrorIs(t, err, sso.ErrProvider)
		require.ErrorContains(t, err, "invalid client_id / client_secret")
	})
}
