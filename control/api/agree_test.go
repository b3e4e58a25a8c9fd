package api_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/api"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
	"github.com/tollgate-db/tollgate/internal/oidctest"
	"github.com/tollgate-db/tollgate/internal/profile"
	"github.com/tollgate-db/tollgate/schemas"
)

// served records which pattern of the API's mux served each request.
type served struct {
	mu   sync.Mutex
	hits map[string]int
}

func (s *served) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		s.mu.Lock()
		s.hits[r.Pattern]++
		s.mu.Unlock()
	})
}

// startAPI serves a control Service (in-memory streams) over HTTPS and
// returns a client with the local admin identity, and that identity.
func startAPI(t *testing.T) (*client.Client, *served, *profile.Profile) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	svc, err := control.New(control.Config{Control: memlog.New(eventlog.ControlStream), Audit: memlog.New(eventlog.AuditStream),
		Validator: v, DataDir: t.TempDir(), ClusterName: "agree", Logger: zerolog.Nop(), FailureDelay: time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, svc.Start(ctx))
	cert, err := svc.ServerCertificate(ctx)
	require.NoError(t, err)
	rec := &served{hits: map[string]int{}}
	ts := httptest.NewUnstartedServer(rec.wrap(api.New(svc, zerolog.Nop()).Handler()))
	ts.TLS = api.TLSConfig(cert)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	addr := ts.Listener.Addr().String()
	p, err := svc.EnsureAdminIdentity(ctx, addr)
	require.NoError(t, err)
	c, err := client.FromProfile(p, "")
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c, rec, p
}

// refused requires err to be the API's refusal with status and code: the
// call reached its service method (a request that did not decode is a
// 400 "bad request body"/"query parameter", an unmounted one a 404 "no
// API endpoint").
func refused(t *testing.T, err error, status int, code string) {
	t.Helper()
	var e *client.APIError
	require.ErrorAs(t, err, &e)
	require.Equal(t, status, e.Status, e.Message)
	require.Equal(t, code, e.Code, e.Message)
	require.NotContains(t, e.Message, "bad request body")
	require.NotContains(t, e.Message, "no API endpoint")
}

// TestClientAndServerAgree calls every call of wire's table through the
// client against the server, checks what each answers, and fails on a
// call the client does not reach (no method using it, or one the server
// does not route as defined).
func TestClientAndServerAgree(t *testing.T) {
	t.Parallel()
	c, rec, admin := startAPI(t)
	addr := admin.Proxy
	ctx := context.Background()
	_, pub, err := client.NewKey()
	require.NoError(t, err)

	p, err := c.Ping(ctx)
	require.NoError(t, err)
	require.Equal(t, "agree", p.Cluster)
	cas, err := c.TrustedCAs(ctx, "host")
	require.NoError(t, err)
	require.Len(t, cas, 1)
	_, err = c.TrustedCAs(ctx, "nope")
	refused(t, err, 400, control.CodeInvalid)
	st, err := c.Status(ctx)
	require.NoError(t, err)
	require.Len(t, st.CAs, 4)
	me, err := c.Whoami(ctx)
	require.NoError(t, err)
	require.Equal(t, control.AdminUser, me.Name)

	tok, err := c.TokensAdd(ctx, wire.TokenAdd{Type: control.TokenTypeDB})
	require.NoError(t, err)
	toks, err := c.TokensList(ctx)
	require.NoError(t, err)
	require.Len(t, toks, 1)

	inv, err := c.UsersAdd(ctx, schemas.User{Name: "bob smith/x", Roles: []string{"access"}})
	require.NoError(t, err)
	require.Equal(t, "bob smith/x", inv.User)
	u, err := c.UsersGet(ctx, "bob smith/x")
	require.NoError(t, err, "a name with a space and a slash is one path segment")
	require.Equal(t, []string{"access"}, u.Roles)
	u, err = c.UsersUpdate(ctx, schemas.User{Name: "bob smith/x", Traits: map[string][]string{"db_users": {"bob"}}})
	require.NoError(t, err)
	require.Equal(t, []string{"bob"}, u.Traits["db_users"])
	users, err := c.UsersList(ctx)
	require.NoError(t, err)
	require.Len(t, users, 2)
	inv, err = c.UsersReset(ctx, "bob smith/x")
	require.NoError(t, err)
	anon, err := client.Anonymous(addr, []byte(strings.Join(cas, "")))
	require.NoError(t, err)
	defer anon.Close()
	const pw = "correct horse battery staple"
	_, err = anon.Signup(ctx, wire.Login{Invite: inv.Invite, Password: pw, PublicKeyPEM: string(pub)})
	require.NoError(t, err)
	bob, err := anon.Login(ctx, wire.Login{User: "bob smith/x", Password: pw, PublicKeyPEM: string(pub)})
	require.NoError(t, err)
	require.Equal(t, "bob smith/x", bob.User)
	_, err = anon.Status(ctx)
	refused(t, err, 401, control.CodeUnauthorized)

	role := schemas.Role{Name: "dev"}
	role.Spec.Allow.DBUsers = []string{"dev"}
	_, err = c.RolesCreate(ctx, role)
	require.NoError(t, err)
	role.Spec.Allow.DBUsers = []string{"dev", "ops"}
	r, err := c.RolesUpdate(ctx, role)
	require.NoError(t, err)
	require.Equal(t, []string{"dev", "ops"}, r.Spec.Allow.DBUsers)
	r, err = c.RolesGet(ctx, "dev")
	require.NoError(t, err)
	require.Equal(t, "dev", r.Name)
	roles, err := c.RolesList(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, roles)
	require.NoError(t, c.RolesRm(ctx, "dev"))

	lk, err := c.LocksAdd(ctx, wire.Lock{LockCreated: schemas.LockCreated{Target: schemas.LockTarget{User: "carol"}}, TTL: time.Hour})
	require.NoError(t, err)
	locks, err := c.LocksList(ctx)
	require.NoError(t, err)
	require.Len(t, locks, 1)
	require.NoError(t, c.LocksRm(ctx, lk.ID))

	_, err = c.RequestsCreate(ctx, wire.AccessRequestCreate{Roles: []string{"editor"}})
	refused(t, err, 403, control.CodeForbidden) // the admin holds no role that may request
	reqs, err := c.RequestsList(ctx, schemas.RequestPending)
	require.NoError(t, err)
	require.NotNil(t, reqs, "an empty list is [], not null")
	_, err = c.RequestsGet(ctx, "nope")
	refused(t, err, 404, control.CodeNotFound)
	_, err = c.RequestsReview(ctx, "nope", wire.ReviewVerdict{Verdict: schemas.VerdictApprove})
	refused(t, err, 404, control.CodeNotFound)
	refused(t, c.RequestsDrop(ctx, "nope"), 404, control.CodeNotFound)

	enr, err := c.MFABeginTOTP(ctx)
	require.NoError(t, err)
	require.Contains(t, enr.URI, "otpauth://totp/")
	refused(t, c.MFAConfirmTOTP(ctx, "not-a-code"), 400, control.CodeInvalid)
	refused(t, c.MFARemove(ctx, wire.MFARemove{User: "nobody"}), 404, control.CodeNotFound)

	diff, err := c.AccessDiff(ctx, wire.AccessDiff{From: time.Now().Add(-time.Hour), To: time.Now()})
	require.NoError(t, err)
	require.NotEmpty(t, diff.Changes, "the roles bootstrap created within the hour")
	_, err = c.AccessDiff(ctx, wire.AccessDiff{From: time.Now(), To: time.Now().Add(-time.Hour)})
	refused(t, err, 400, control.CodeInvalid)

	proposed := schemas.Role{Name: "access", Spec: schemas.RoleSpec{Deny: schemas.RoleConditions{DBStatements: []schemas.StatementRule{
		{Name: "no-deletes", Statements: []string{"delete"}}}}}}
	rep, err := c.PolicySimulate(ctx, wire.PolicySimulate{Role: proposed, Since: time.Now().Add(-time.Hour)})
	require.NoError(t, err)
	require.Equal(t, "access", rep.Role)
	require.Zero(t, rep.Denied, "no query was recorded")
	proposed.Spec.Deny.DBStatements[0].Statements = []string{"delet"}
	_, err = c.PolicySimulate(ctx, wire.PolicySimulate{Role: proposed, Since: time.Now().Add(-time.Hour)})
	refused(t, err, 400, control.CodeInvalid)

	idp := oidctest.Start()
	t.Cleanup(idp.Close)
	conn := wire.SSOConnector{OIDCConnector: schemas.OIDCConnector{Name: "corp", IssuerURL: idp.Issuer, ClientID: oidctest.WebClient,
		ClaimsToRoles: []schemas.ClaimMapping{{Claim: "groups", Value: "dba", Roles: []string{"access"}}}}, ClientSecret: oidctest.WebSecret}
	view, err := c.SSOCreate(ctx, conn)
	require.NoError(t, err)
	require.True(t, view.HasSecret)
	conn.ClientSecret = ""
	view, err = c.SSOUpdate(ctx, conn)
	require.NoError(t, err)
	require.True(t, view.HasSecret, "an update without a secret keeps it")
	conns, err := c.SSOList(ctx)
	require.NoError(t, err)
	require.Len(t, conns, 1)
	_, err = c.SSOGet(ctx, "corp")
	require.NoError(t, err)
	auth, err := c.SSOBegin(ctx, wire.SSOBegin{RedirectURL: "http://127.0.0.1:1/callback"})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(auth.URL, idp.Issuer+"/"), auth.URL)
	_, err = c.SSOBegin(ctx, wire.SSOBegin{RedirectURL: "https://evil.example.com/callback"})
	refused(t, err, 400, control.CodeInvalid)
	_, err = c.SSOFinish(ctx, wire.SSOFinish{State: "forged", Code: "x"})
	refused(t, err, 401, control.CodeUnauthorized)
	require.NoError(t, c.SSORm(ctx, "corp"))
	_, err = c.SSOGet(ctx, "corp")
	refused(t, err, 404, control.CodeNotFound)

	exported, err := c.Export(ctx, "db-client")
	require.NoError(t, err)
	require.Len(t, exported, 1)
	signed, err := c.Sign(ctx, wire.SignRequest{Format: "cockroachdb", Hosts: []string{"localhost"}, TTL: time.Hour})
	require.NoError(t, err)
	require.NotEmpty(t, signed.CertPEM)
	rot, err := c.RotateCA(ctx, wire.RotateRequest{Type: "user"})
	require.NoError(t, err)
	require.Equal(t, schemas.PhaseInit, rot.Phase)
	rot, err = c.Rotation(ctx, "user")
	require.NoError(t, err)
	require.NotEmpty(t, rot.NextPin)
	_, err = c.RotateCA(ctx, wire.RotateRequest{Type: "user", Action: wire.RotateRollback})
	require.NoError(t, err)

	db := schemas.Database{Name: "pg", Protocol: control.ProtocolPostgres, URI: "127.0.0.1:5432"}
	_, err = c.DBCreate(ctx, db)
	require.NoError(t, err)
	dbs, err := c.DBList(ctx, true)
	require.NoError(t, err)
	require.Len(t, dbs, 1)
	dbs, err = c.DBList(ctx, false)
	require.NoError(t, err)
	require.NotNil(t, dbs, "an empty list is [], not null")
	_, err = c.DBRegister(ctx, db)
	refused(t, err, 403, control.CodeForbidden)
	dbCert, err := c.DBCert(ctx, wire.DBCertRequest{Database: "pg", PublicKeyPEM: string(pub)})
	require.NoError(t, err)
	require.NotEmpty(t, dbCert.CAPEM)
	_, err = c.DBClientCert(ctx, wire.DBClientCertRequest{DBUser: "bob", NotAfter: time.Now().Add(time.Hour), PublicKeyPEM: string(pub)})
	refused(t, err, 403, control.CodeForbidden)
	require.NoError(t, c.DBRm(ctx, "pg"))

	ev, err := c.Events(ctx, wire.EventsQuery{Stream: "control", Type: schemas.TypeUserCreated, Since: time.Now().Add(-time.Hour), Limit: 1})
	require.NoError(t, err)
	require.Len(t, ev.Events, 1, "the query reached the server")
	require.Equal(t, schemas.TypeUserCreated, ev.Events[0].Event.Type)
	_, err = c.AuditSearch(ctx, wire.AuditSearch{Types: []string{schemas.TypeAuthLogin}})
	require.NoError(t, err)
	_, err = c.AuditSession(ctx, "no-such-session")
	refused(t, err, 404, control.CodeNotFound)
	_, err = c.AccessAt(ctx, wire.AccessAt{At: time.Now(), User: "bob smith/x"})
	require.NoError(t, err)
	_, err = c.AuditVerify(ctx, wire.AuditVerify{})
	require.NoError(t, err)
	_, err = c.AuditAnchors(ctx)
	require.NoError(t, err)
	es, err := c.ExportStatus(ctx)
	require.NoError(t, err)
	require.False(t, es.Configured)

	joined, err := anon.Join(ctx, wire.Join{Token: tok.Value, Hostname: "db1", PublicKeyPEM: string(pub)})
	require.NoError(t, err)
	require.NotEmpty(t, joined.AgentID)
	agents, err := c.AgentsList(ctx)
	require.NoError(t, err)
	require.Len(t, agents, 1)
	_, err = c.RenewAgentCert(ctx, wire.AgentRenew{PublicKeyPEM: string(pub)})
	refused(t, err, 403, control.CodeForbidden)
	require.NoError(t, c.TokensRm(ctx, tok.Hash))
	require.NoError(t, c.UsersRm(ctx, "bob smith/x"))

	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Zero(t, rec.hits["/"], "no call reached the 404 handler")
	for _, route := range wire.Routes() {
		require.Positive(t, rec.hits[route.String()], "no client call reached %s", route)
	}
}

// TestHTTPSurface: what any client sees of the special cases, byte for
// byte: a path no call has, a body that does not decode or is too large, a
// bad query parameter, a user or role named twice, no client cert.
func TestHTTPSurface(t *testing.T) {
	t.Parallel()
	c, _, admin := startAPI(t)
	ctx := context.Background()
	_, err := c.UsersAdd(ctx, schemas.User{Name: "bob", Roles: []string{"access"}})
	require.NoError(t, err)
	role := schemas.Role{Name: "dev"}
	role.Spec.Allow.DBUsers = []string{"dev"}
	_, err = c.RolesCreate(ctx, role)
	require.NoError(t, err)

	tc, err := admin.TLSConfig()
	require.NoError(t, err)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	pool := tc.RootCAs
	anon := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13}}}
	send := func(hc *http.Client, method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, "https://"+admin.Proxy+path, strings.NewReader(body))
		require.NoError(t, err)
		resp, err := hc.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, strings.TrimSpace(string(raw))
	}
	for _, tc := range []struct {
		name, method, path, body string
		anonymous                bool
		status                   int
		answer                   string // the whole body, or its start when it ends in …
	}{
		{"no such endpoint", "GET", "/v1/nothing", "", false, 404, `{"code":"not_found","message":"no API endpoint GET /v1/nothing"}`},
		{"no such method", "PATCH", "/v1/users", "", false, 404, `{"code":"not_found","message":"no API endpoint PATCH /v1/users"}`},
		{"unknown field", "POST", "/v1/users", `{"name":"x","bogus":1}`, false, 400,
			`{"code":"invalid","message":"bad request body: json: unknown field \"bogus\""}`},
		{"no body", "POST", "/v1/tokens", "", false, 400, `{"code":"invalid","message":"bad request body: EOF"}`},
		{"body too large", "POST", "/v1/users", `{"name":"` + strings.Repeat("x", api.MaxBody) + `"}`, false, 413,
			`{"code":"invalid","message":"request body too large"}`},
		{"bad since", "GET", "/v1/events?since=yesterday", "", false, 400,
			`{"code":"invalid","message":"query parameter since=yesterday is not valid"}`},
		{"bad limit after a good since", "GET", "/v1/events?since=2025-01-02T15:04:05Z&limit=ten", "", false, 400,
			`{"code":"invalid","message":"query parameter limit=ten is not valid"}`},
		{"role named twice", "PUT", "/v1/roles/dev", `{"name":"ops","spec":{}}`, false, 400,
			`{"code":"invalid","message":"role name in the body differs from the URL"}`},
		{"the path names the user", "PUT", "/v1/users/bob", `{"name":"eve","traits":{"db_users":["b"]}}`, false, 200, `{"name":"bob",…`},
		{"deleted: no content", "DELETE", "/v1/users/bob", "", false, 204, ``},
		{"empty list", "GET", "/v1/locks", "", false, 200, `[]`},
		{"all databases", "GET", "/v1/databases?all=true", "", false, 200, `[]`},
		{"no client cert", "GET", "/v1/status", "", true, 401,
			`{"code":"unauthorized","message":"a client certificate is required: log in with toll login, or run tollctl on the control host (local admin identity)"}`},
		{"no client cert before the body", "POST", "/v1/users", `{bad`, true, 401, `{"code":"unauthorized",…`},
		{"open", "GET", "/v1/cas/user", "", true, 200, `{"pem":["-----BEGIN CERTIFICATE-----…`},
		{"unknown CA", "GET", "/v1/cas/nope", "", true, 400, `{"code":"invalid","message":"CA type \"nope\": use user, host, db or db-client"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			via := hc
			if tc.anonymous {
				via = anon
			}
			status, answer := send(via, tc.method, tc.path, tc.body)
			require.Equal(t, tc.status, status, answer)
			if want, ok := strings.CutSuffix(tc.answer, "…"); ok {
				require.True(t, strings.HasPrefix(answer, want), answer)
				return
			}
			require.Equal(t, tc.answer, answer)
		})
	}
}
