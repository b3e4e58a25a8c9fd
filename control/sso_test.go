package control

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
	"github.com/tollgate-db/tollgate/internal/oidctest"
	"github.com/tollgate-db/tollgate/internal/testclock"
	"github.com/tollgate-db/tollgate/schemas"
)

// ssoBrowser logs in through svc's connector as username at the provider
// and returns what the browser brought back to the loopback redirect.
func ssoBrowser(t *testing.T, svc *Service, username, password string) wire.SSOFinish {
	t.Helper()
	ctx := context.Background()
	got := make(chan url.Values, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.URL.Query() }))
	defer cb.Close()
	auth, err := svc.SSO().Begin(ctx, wire.SSOBegin{RedirectURL: cb.URL + "/callback"})
	require.NoError(t, err)
	status, body, err := oidctest.Login(ctx, auth.URL, username, password)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, body)
	q := <-got
	require.Equal(t, auth.State, q.Get("state"))
	return wire.SSOFinish{State: q.Get("state"), Code: q.Get("code"), PublicKeyPEM: pubKey(t)}
}

// TestSingleSignOn: logins through an OIDC connector (a confidential
// client of a real provider) create the user at the first, recompute its
// roles and traits from the claims at each (no event when nothing
// changed), refuse claims that map to no role, never take over a local
// user, replay neither a code nor a state, and ask the user's second
// factor. The client secret is in no event or log line.
func TestSingleSignOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	idp := oidctest.Start(
		oidctest.User{ID: "u1", Username: "alice", Password: "alice-idp-pw", Email: "alice@example.com", Groups: []string{"dba"}},
		oidctest.User{ID: "u2", Username: "bob", Password: "bob-idp-pw", Email: "bob@example.com", Groups: []string{"dba"}})
	t.Cleanup(idp.Close)
	clock := testclock.New(time.Now())
	ctl, aud := memlog.New(eventlog.ControlStream), memlog.New(eventlog.AuditStream)
	var logs strings.Builder
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	svc, err := New(Config{Control: ctl, Audit: aud, Validator: v, DataDir: t.TempDir(), ClusterName: "c",
		Clock: clock, Logger: zerolog.New(&logs), FailureDelay: time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, svc.Start(ctx))
	admin := Caller{Kind: CallerUser, Name: AdminUser}

	_, err = svc.SSO().Begin(ctx, wire.SSOBegin{RedirectURL: "http://127.0.0.1:1/callback"})
	require.Equal(t, CodeNotFound, apiCode(t, err), "no connector yet")
	conn := wire.SSOConnector{OIDCConnector: schemas.OIDCConnector{Name: "corp", IssuerURL: idp.Issuer, ClientID: oidctest.WebClient,
		Scopes: []string{"email", "groups"},
		ClaimsToRoles: []schemas.ClaimMapping{
			{Claim: "groups", Value: "dba", Roles: []string{"access"}},
			{Claim: "groups", Value: "eng", Roles: []string{"access", "requester"}},
		},
		Traits: map[string][]string{"db_users": {"{{email.local}}"}}}, ClientSecret: oidctest.WebSecret}
	bad := conn
	bad.ClaimsToRoles = []schemas.ClaimMapping{{Claim: "groups", Value: "dba", Roles: []string{"nope"}}}
	_, err = svc.SSO().Create(ctx, admin, bad)
	require.Equal(t, CodeInvalid, apiCode(t, err), "a mapping to a missing role")
	bad = conn
	bad.IssuerURL = "http://127.0.0.1:1"
	_, err = svc.SSO().Create(ctx, admin, bad)
	require.Equal(t, CodeInvalid, apiCode(t, err), "a provider control cannot reach")
	_, err = svc.Users().Add(ctx, admin, schemas.User{Name: "carol", Roles: []string{"access"}})
	require.NoError(t, err)
	_, err = svc.SSO().Create(ctx, Caller{Kind: CallerUser, Name: "carol"}, conn)
	require.Equal(t, CodeForbidden, apiCode(t, err), "without a rule on sso_connector")
	_, err = svc.SSO().Create(ctx, admin, conn)
	require.NoError(t, err)

	finish := func(f wire.SSOFinish) (wire.SSOLogin, error) { return svc.SSO().Finish(ctx, f, "127.0.0.1:9") }
	events := func() int { n, _ := ctl.LastSeq(ctx); return int(n) }

	// First login: the user is created by the connector.
	f := ssoBrowser(t, svc, "alice", "alice-idp-pw")
	res, err := finish(f)
	require.NoError(t, err)
	require.NotNil(t, res.Cert)
	require.Equal(t, "alice@example.com", res.Cert.User)
	require.Equal(t, []string{"access"}, res.Cert.Roles)
	u, err := svc.Users().Get(admin, "alice@example.com")
	require.NoError(t, err)
	require.Equal(t, map[string][]string{"db_users": {"alice"}}, u.Traits)
	_, err = finish(f)
	require.Equal(t, CodeUnauthorized, apiCode(t, err), "a code is good once")

	// Same claims: no event. Changed claims: roles recomputed.
	before := events()
	_, err = finish(ssoBrowser(t, svc, "alice", "alice-idp-pw"))
	require.NoError(t, err)
	require.Equal(t, before, events(), "nothing changed, nothing appended")
	idp.SetGroups("u1", "eng")
	res, err = finish(ssoBrowser(t, svc, "alice", "alice-idp-pw"))
	require.NoError(t, err)
	require.Equal(t, []string{"access", "requester"}, res.Cert.Roles)
	idp.SetGroups("u1", "sales")
	_, err = finish(ssoBrowser(t, svc, "alice", "alice-idp-pw"))
	require.Equal(t, CodeForbidden, apiCode(t, err), "claims that map to no role")
	idp.SetGroups("u1", "dba")

	// A local user of the same name is not taken over.
	_, err = svc.Users().Add(ctx, admin, schemas.User{Name: "bob@example.com", Roles: []string{"editor"}})
	require.NoError(t, err)
	_, err = finish(ssoBrowser(t, svc, "bob", "bob-idp-pw"))
	require.Equal(t, CodeForbidden, apiCode(t, err))
	bob, err := svc.Users().Get(admin, "bob@example.com")
	require.NoError(t, err)
	require.Equal(t, []string{"editor"}, bob.Roles, "the local user is unchanged")

	// A forged or stale state.
	f = ssoBrowser(t, svc, "alice", "alice-idp-pw")
	clock.Add(SSOFlowTTL)
	_, err = finish(f)
	require.Equal(t, CodeUnauthorized, apiCode(t, err), "a state older than the flow's TTL")
	f.State = f.State[:len(f.State)-2] + "AA"
	_, err = finish(f)
	require.Equal(t, CodeUnauthorized, apiCode(t, err), "a changed state")

	// A second factor: the login waits for its code.
	alice := Caller{Kind: CallerUser, Name: "alice@example.com"}
	enr, err := svc.MFA().BeginTOTP(ctx, alice)
	require.NoError(t, err)
	code := func() string {
		c, err := totp.GenerateCode(enr.Secret, clock.Now())
		require.NoError(t, err)
		return c
	}
	require.NoError(t, svc.MFA().ConfirmTOTP(ctx, alice, wire.MFACode{Code: code()}))
	res, err = finish(ssoBrowser(t, svc, "alice", "alice-idp-pw"))
	require.NoError(t, err)
	require.True(t, res.MFARequired)
	require.Nil(t, res.Cert)
	_, err = finish(wire.SSOFinish{Pending: res.Pending, OTP: "000000", PublicKeyPEM: pubKey(t)})
	require.Equal(t, CodeUnauthorized, apiCode(t, err))
	clock.Add(30 * time.Second)
	done, err := finish(wire.SSOFinish{Pending: res.Pending, OTP: code(), PublicKeyPEM: pubKey(t)})
	require.NoError(t, err)
	require.NotNil(t, done.Cert)
	_, err = finish(wire.SSOFinish{Pending: res.Pending + "x", OTP: code(), PublicKeyPEM: pubKey(t)})
	require.Equal(t, CodeUnauthorized, apiCode(t, err))

	// The record: who the connector created and changed, each login.
	var created, updated, ok, failed int
	require.NoError(t, ctl.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error {
		if strings.Contains(r.Event.Subject, "alice") {
			switch r.Event.Type {
			case schemas.TypeUserCreated:
				created++
				require.Equal(t, "sso:corp", r.Event.Actor)
				require.Contains(t, string(r.Event.Data), `"sso":"corp"`)
			case schemas.TypeUserUpdated:
				updated++
				require.Equal(t, "sso:corp", r.Event.Actor)
			}
		}
		return nil
	}))
	require.NoError(t, aud.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error {
		if r.Event.Type == schemas.TypeAuthLogin && strings.Contains(string(r.Event.Data), `"method":"oidc"`) {
			if strings.Contains(string(r.Event.Data), `"success":true`) {
				ok++
			} else {
				failed++
			}
		}
		return nil
	}))
	require.Equal(t, 1, created)
	require.Equal(t, 2, updated, "to eng, back to dba at the MFA login")
	require.Equal(t, 4, ok, "first, unchanged, eng, with the code")
	require.GreaterOrEqual(t, failed, 4)
	var all strings.Builder
	for _, s := range []*memlog.Stream{ctl, aud} {
		require.NoError(t, s.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error { all.Write(r.Event.Data); return nil }))
	}
	all.WriteString(logs.String())
	require.NotContains(t, all.String(), oidctest.WebSecret, "the client secret")
	require.NotContains(t, all.String(), enr.Secret, "the TOTP secret")
}
