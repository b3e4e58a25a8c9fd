package web_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/auditquery/audittest"
	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/api"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
	"github.com/tollgate-db/tollgate/internal/browsertest"
	"github.com/tollgate-db/tollgate/internal/oidctest"
	"github.com/tollgate-db/tollgate/schemas"
)

var update = flag.Bool("update", false, "write the screenshots to docs/console")

const password = "console-password-123"

type fixture struct {
	svc   *control.Service
	audit *audittest.Log
	url   string
}

func pubKey(t *testing.T) string {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// start serves a control (in-memory streams holding the sample audit
// trail and one live session) over HTTPS with two users: carol (editor,
// auditor) and dave (access only).
func start(t *testing.T) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	aud := audittest.SampleAudit(t)
	aud.Audit(time.Since(audittest.T0), "roach", "alice", "s3", schemas.TypeSessionStarted, schemas.SessionStarted{SessionID: "s3", User: "alice",
		Database: "roach", DBUser: "alice", DBName: "bank", Protocol: "postgres", ClientAddr: "192.0.2.9:5000", AgentID: "agent-1", DecidedBy: "access"})
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	svc, err := control.New(control.Config{Control: memlog.New(eventlog.ControlStream), Audit: aud.S, Validator: v, DataDir: t.TempDir(),
		ClusterName: "console", Logger: zerolog.Nop(), FailureDelay: time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, svc.Start(ctx))
	admin := control.Caller{Kind: control.CallerUser, Name: control.AdminUser}
	for name, roles := range map[string][]string{"carol": {"editor", "auditor"}, "dave": {"access", "requester"}} {
		inv, err := svc.Users().Add(ctx, admin, schemas.User{Name: name, Roles: roles, Traits: map[string][]string{"db_users": {name}, "db_names": {name}}})
		require.NoError(t, err)
		_, err = svc.Auth().Signup(ctx, wire.Login{Invite: inv.Invite, Password: password, PublicKeyPEM: pubKey(t)}, "")
		require.NoError(t, err)
	}
	_, err = svc.Databases().Create(ctx, admin, schemas.Database{Name: "roach", Protocol: control.ProtocolPostgres, URI: "127.0.0.1:26257"})
	require.NoError(t, err)
	cert, err := svc.ServerCertificate(ctx)
	require.NoError(t, err)
	_, err = svc.Requests().Create(ctx, control.Caller{Kind: control.CallerUser, Name: "dave"},
		wire.AccessRequestCreate{Roles: []string{"editor"}, Reason: "incident 42", Duration: time.Hour})
	require.NoError(t, err)
	srv := api.New(svc, zerolog.Nop())
	// The process's export subscribers, as the node reports them.
	srv.SetExportStatus(func(context.Context) wire.ExportStatus {
		return wire.ExportStatus{Configured: true, Sinks: []wire.ExportSink{{Name: "siem", Type: "webhook", Format: "ocsf",
			Streams: []wire.ExportStream{{Stream: eventlog.AuditStream, Consumer: "siem", Lag: 3, Exported: 42}}}}}
	})
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.TLS = api.TLSConfig(cert)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return &fixture{svc: svc, audit: aud, url: ts.URL}
}

// browserClient is an HTTP client with a cookie jar that trusts any cert.
func browserClient(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func formLogin(t *testing.T, c *http.Client, base, user string) {
	t.Helper()
	resp, err := c.PostForm(base+"/web/login", url.Values{"user": {user}, "password": {password}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
}

// TestConsoleRefusesWhatTheRolesDoNotAllowAndForgedChanges: a user
// without the audit right sees no events; a POST without the session's
// CSRF token changes nothing; every page has the strict CSP; the session
// cookie is HttpOnly, Secure and SameSite=Strict.
func TestConsoleRefusesWhatTheRolesDoNotAllowAndForgedChanges(t *testing.T) {
	t.Parallel()
	f := start(t)
	dave := browserClient(t)
	formLogin(t, dave, f.url, "dave")
	resp, err := dave.Get(f.url + "/web/audit")
	require.NoError(t, err)
	body := readAll(t, resp)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	require.NotContains(t, body, "SELECT 1")
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'")

	carol := browserClient(t)
	resp, err = carol.PostForm(f.url+"/web/login", url.Values{"user": {"carol"}, "password": {password}})
	require.NoError(t, err)
	resp.Body.Close()
	ck := resp.Header.Get("Set-Cookie")
	for _, attr := range []string{"HttpOnly", "Secure", "SameSite=Strict", "Path=/web"} {
		require.Contains(t, ck, attr)
	}
	before := len(locks(t, f))
	resp, err = carol.PostForm(f.url+"/web/locks", url.Values{"user": {"alice"}})
	require.NoError(t, err)
	body = readAll(t, resp)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	require.Contains(t, body, "CSRF")
	require.Len(t, locks(t, f), before, "the forged POST locked nobody")

	resp, err = browserClient(t).PostForm(f.url+"/web/login", url.Values{"user": {"carol"}, "password": {"wrong"}})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, readAll(t, resp), "wrong user name or password")
}

func locks(t *testing.T, f *fixture) []wire.Lock {
	ls, err := f.svc.Locks().List(control.Caller{Kind: control.CallerUser, Name: control.AdminUser})
	require.NoError(t, err)
	return ls
}

func readAll(t *testing.T, resp *http.Response) string {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// TestConsoleInARealBrowser drives the console in headless Chromium: log
// in, search the audit, open a session and step through its timeline
// (its chain status from the verifier), see access at a time, lock a live session's user
// and see the session leave the live page once it ends, review requests
// and read the cluster. Each page's screenshot goes to docs/console with
// -update.
func TestConsoleInARealBrowser(t *testing.T) {
	f := start(t)
	ctx, cancel := context.WithTimeout(browsertest.Context(t), 2*time.Minute)
	defer cancel()
	shots := map[string][]byte{}
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, steps...))
	}
	text := func(sel chromedp.CSS) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(sel))
		require.NoError(t, err)
		return v
	}
	shot := func(name string) {
		t.Helper()
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		shots[name] = b
	}
	do(chromedp.Navigate(f.url+"/web/audit?user=alice"), chromedp.WaitVisible(chromedp.ID("user")))
	shot("login")
	do(chromedp.SendKeys(chromedp.ID("user"), "carol"), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.CSS("table.events")))
	got := text("table.events")
	shot("audit")
	require.Contains(t, got, "session.started")
	require.Contains(t, got, "roach")
	require.NotContains(t, got, "bob", "the search is alice's")

	do(chromedp.Click(chromedp.CSS(`a[href="/web/sessions/s1"]`)), chromedp.WaitVisible(chromedp.ID("chain")))
	chain, timeline := text("#chain"), text("#timeline")
	do(chromedp.Click(chromedp.ID("prev")), chromedp.Click(chromedp.ID("prev")))
	pos := text("#pos")
	shot("session")
	// The sample trail's agent never joined this cluster: the same
	// verifier as tollctl audit verify says so on the page.
	require.Contains(t, chain, "BROKEN")
	require.Contains(t, text("main"), "unknown_source (agent-1")
	require.Contains(t, timeline, "SELECT pg_sleep($1)")
	require.Contains(t, timeline, "$1=60")
	require.Contains(t, timeline, "57014")
	require.Contains(t, timeline, "session ended: client")
	require.Equal(t, "3 of 5", pos, "two steps back from the end: start, two queries, the cancel, the end")

	do(chromedp.Navigate(f.url+"/web/access?user=dave"), chromedp.WaitVisible(chromedp.ID("access-answer")))
	got = text("main")
	shot("access")
	require.Contains(t, got, "held roles access")
	require.Contains(t, got, "roach")
	from := time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04")
	do(chromedp.Navigate(f.url+"/web/access?from="+from), chromedp.WaitVisible(chromedp.ID("diff")))
	got = text("#diff")
	shot("access-diff")
	require.Contains(t, got, "user carol added")
	require.Contains(t, got, "database roach added")
	require.Contains(t, got, "dave can reach roach as dave (roles access)")

	do(chromedp.Navigate(f.url+"/web/live"), chromedp.WaitVisible(chromedp.CSS(`tr[data-session="s3"]`)))
	shot("live")
	do(chromedp.Click(chromedp.CSS(`tr[data-session="s3"] button.lock-user`)), chromedp.WaitVisible(chromedp.CSS("li.lock")))
	// The live table is redrawn when the stream says so: read it until
	// the lock shows (a redraw may replace it while it is read).
	var live string
	for range 100 {
		if live = text("#live"); strings.Contains(live, "locked from the web console by carol") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.Contains(t, live, "locked from the web console by carol")
	ls := locks(t, f)
	require.Len(t, ls, 1)
	require.Equal(t, "alice", ls[0].Target.User)
	// The agent ends the locked session (here: its session.ended); the
	// live page drops it without a reload.
	f.audit.Audit(time.Since(audittest.T0), "roach", "alice", "s3", schemas.TypeSessionEnded, schemas.SessionEnded{SessionID: "s3", Reason: "locked"})
	do(chromedp.WaitNotPresent(chromedp.CSS(`tr[data-session="s3"]`)))

	do(chromedp.Navigate(f.url+"/web/requests"), chromedp.WaitVisible(chromedp.CSS("table.events")))
	require.Contains(t, text("table.events"), "incident 42")
	shot("requests")
	do(chromedp.SendKeys(chromedp.CSS(`input[name="reason"]`), "on call"), chromedp.Click(chromedp.CSS(`button[value="approve"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`button[value="approve"]`)))
	reqs, err := f.svc.Requests().List(control.Caller{Kind: control.CallerUser, Name: control.AdminUser}, wire.AccessRequestsQuery{State: schemas.RequestApproved})
	require.NoError(t, err)
	require.Len(t, reqs, 1, "carol approved dave's request from the page")
	require.Equal(t, "carol", reqs[0].Reviews[0].Reviewer)
	do(chromedp.Navigate(f.url+"/web/cluster"), chromedp.WaitVisible(chromedp.CSS("table.events")))
	got = text("main")
	shot("cluster")
	require.Contains(t, got, "Cluster console")
	require.Contains(t, got, "sha256:")
	require.Contains(t, text("#export"), "siem\twebhook\tocsf\tTOLLGATE_AUDIT\t3\t42", "the export subscriber's lag")

	// A change without the session's CSRF token, sent from the page
	// itself, is refused and locks nobody.
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/web/locks", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "user=dave"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, status)
	require.Len(t, locks(t, f), 1, "still only carol's lock of alice")

	// Log out; dave, without the audit right, sees no events.
	do(chromedp.Click(chromedp.CSS("form.logout button")), chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), "dave"), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.CSS("p.error")))
	refusal := text("p.error")
	require.Contains(t, refusal, "dave")
	require.NotContains(t, text("main"), "alice", "no event of the trail")
	require.Contains(t, refusal, "may not list audit")

	if *update {
		dir := filepath.Join("..", "..", "docs", "console")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for name, b := range shots {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644))
		}
	}
	require.Len(t, shots, 8)
}

// TestLiveEventsFollowTheAuditStream: the live page's event stream says
// when a session starts or ends, as the audit stream stores it; a user
// without the audit right gets none.
func TestLiveEventsFollowTheAuditStream(t *testing.T) {
	t.Parallel()
	f := start(t)
	carol := browserClient(t)
	formLogin(t, carol, f.url, "carol")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url+"/web/live/events", nil)
	require.NoError(t, err)
	resp, err := carol.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, line, "following the audit stream")
	f.audit.Audit(time.Since(audittest.T0), "roach", "alice", "s3", schemas.TypeSessionEnded, schemas.SessionEnded{SessionID: "s3", Reason: "client"})
	for {
		line, err = br.ReadString('\n')
		require.NoError(t, err)
		if strings.HasPrefix(line, "data: ") {
			require.Equal(t, "data: session.ended\n", line)
			break
		}
	}

	dave := browserClient(t)
	formLogin(t, dave, f.url, "dave")
	resp2, err := dave.Get(f.url + "/web/live/events")
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, resp2.StatusCode)
	resp2.Body.Close()
}

// TestConsoleSingleSignOn: the login page offers the cluster's OIDC
// connector; the browser logs in at the provider (a real one, run here)
// and comes back to the console's callback as the user the claims map to,
// who sees the audit its auditor role allows.
func TestConsoleSingleSignOn(t *testing.T) {
	f := start(t)
	idp := oidctest.Start(oidctest.User{ID: "u9", Username: "erin", Password: "erin-idp-pw", Email: "erin@example.com", Groups: []string{"audit"}})
	t.Cleanup(idp.Close)
	admin := control.Caller{Kind: control.CallerUser, Name: control.AdminUser}
	_, err := f.svc.SSO().Create(context.Background(), admin, wire.SSOConnector{OIDCConnector: schemas.OIDCConnector{Name: "corp",
		IssuerURL: idp.Issuer, ClientID: oidctest.WebClient, Scopes: []string{"email", "groups"},
		ClaimsToRoles: []schemas.ClaimMapping{{Claim: "groups", Value: "audit", Roles: []string{"auditor"}}}}, ClientSecret: oidctest.WebSecret})
	require.NoError(t, err)

	ctx := browsertest.Context(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(f.url+"/web/login"), chromedp.WaitVisible(chromedp.CSS("a.sso-login"))))
	tctx, tcancel := context.WithTimeout(ctx, time.Minute)
	defer tcancel()
	err = chromedp.Do(tctx, chromedp.Click(chromedp.CSS("a.sso-login")), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "erin"), chromedp.SendKeys(chromedp.ID("password"), "erin-idp-pw"),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.CSS("table.events")))
	if err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("single sign-on in the browser: %v (at %s: %s)", err, loc, body)
	}
	who, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("form.logout span")))
	require.NoError(t, err)
	require.Equal(t, "erin@example.com", who)
	rows, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("table.events")))
	require.NoError(t, err)
	require.Contains(t, rows, "session.started", "the auditor role the groups claim gave")
}
