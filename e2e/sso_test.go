package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/internal/oidctest"
)

// ssoLogin runs toll login --auth=oidc --no-browser as its own process,
// opens the URL it prints in a "browser" (an HTTP client driving the
// provider's login form as username) and returns toll's output and exit
// code once it is done.
func ssoLogin(t *testing.T, w *world, controlAddr, pin, username, password string) (string, int) {
	t.Helper()
	login := w.start("toll", "login", "--proxy="+controlAddr, "--ca-pin="+pin, "--auth=oidc", "--no-browser")
	url := regexp.MustCompile(`(?m)^\s+(http://\S+)$`)
	eventually(t, "toll prints the login URL", nil, func() bool { return url.MatchString(login.out.String()) || login.exited() })
	m := url.FindStringSubmatch(login.out.String())
	require.NotNil(t, m, login.out.String())
	status, body, err := oidctest.Login(context.Background(), m[1], username, password)
	require.NoError(t, err)
	<-login.done
	out := login.out.String()
	code := login.cmd.ProcessState.ExitCode()
	if code == 0 {
		require.Equal(t, http.StatusOK, status, body)
		require.Contains(t, body, "Logged in", "the browser says so")
	}
	return out, code
}

// TestSingleSignOnWithOIDC: an admin creates an OIDC connector (a
// confidential client of a real OpenID Provider run by the test) with
// tollctl sso create; alice, unknown to Tollgate, logs in with toll login
// --auth=oidc through the provider's login form; she is created as
// alice@example.com with the roles her groups map to and the db user her
// email's local part gives (traits), and reaches PostgreSQL through the
// agent as that user only. When the provider drops her group, her next
// login is refused. The client secret is in no event and no log line;
// the database's log and the audit agree.
func TestSingleSignOnWithOIDC(t *testing.T) {
	w := newWorld(t)
	idp := oidctest.Start(oidctest.User{ID: "u1", Username: "alice", Password: "alice-idp-pw", Email: "alice@example.com", Groups: []string{"dba"}})
	t.Cleanup(idp.Close)
	control, controlAddr, pin := w.startLocalControl("")
	pg := w.alicesPostgres(controlAddr, nil, nil, "")
	agent := w.startAgent(controlAddr, pin, pg.Addr())

	conn := filepath.Join(w.dir, "oidc.yaml")
	require.NoError(t, os.WriteFile(conn, fmt.Appendf(nil, `kind: oidc
version: v3
metadata:
  name: corp
spec:
  issuer_url: %s
  client_id: %s
  client_secret: %s
  scopes: [email, groups]
  claims_to_roles:
    - {claim: groups, value: dba, roles: [access, requester]}
  traits:
    db_users: ["{{email.local}}"]
    db_names: ["{{email.local}}"]
`, idp.Issuer, oidctest.WebClient, oidctest.WebSecret), 0o600))
	require.Contains(t, w.run("", "tollctl", "sso", "create", "-f", conn), "toll login --proxy=HOST:PORT --auth=oidc")
	require.Contains(t, w.run("", "tollctl", "sso", "ls"), "groups=dba→access|requester")

	out, code := ssoLogin(t, w, controlAddr, pin, "alice", "alice-idp-pw")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Logged in as alice@example.com")
	require.Contains(t, out, "Roles: access,requester")
	users := w.run("", "tollctl", "users", "ls")
	require.Contains(t, users, "alice@example.com")

	got := w.run("", "toll", "db", "connect", "pg", "--db-user=alice", "--db-name=alice", "--", "-X", "-A", "-t", "-c", "select 'through sso'")
	require.Equal(t, "through sso", strings.TrimSpace(got))
	_, errOut, err := w.try("", "toll", "db", "connect", "pg", "--db-user=postgres", "--db-name=alice", "--", "-X", "-c", "select 1")
	require.Error(t, err, "the trait gives db user alice only")
	require.Contains(t, errOut, "postgres")

	idp.SetGroups("u1", "sales")
	out, code = ssoLogin(t, w, controlAddr, pin, "alice", "alice-idp-pw")
	require.NotEqual(t, 0, code, out)
	require.Contains(t, out, "map to no role")

	events := w.run("", "tollctl", "events", "ls", "--stream=control")
	require.Contains(t, events, "sso.connector_saved")
	require.Contains(t, events, "user.created")
	audit := w.run("", "tollctl", "audit", "search", "--type=auth.login")
	require.Contains(t, audit, "oidc corp")
	for _, where := range []string{w.run("", "tollctl", "events", "ls", "--stream=control", "--format=json"),
		w.run("", "tollctl", "audit", "search", "--format=json"), control.out.String()} {
		require.NotContains(t, where, oidctest.WebSecret, "the client secret")
	}
	requireSessionsAgreeAs(t, w, agent, pg, "alice@example.com")
}
