package main

import (
	"context"
	"crypto/x509"
	"github.com/tollgate-db/tollgate/internal/testio"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
	"github.com/tollgate-db/tollgate/internal/profile"
)

const rotPW = "correct horse battery"

// rotUser creates a user with roles through tollctl and signs them up;
// it returns a login function giving a fresh user cert each call.
func rotUser(t *testing.T, admin cli, anon *client.Client, name, roles string) func() (wire.Cert, []byte) {
	t.Helper()
	out := admin.ok("users", "add", "--roles="+roles, name)
	m := regexp.MustCompile(`--invite=([0-9a-f]{32})`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	_, pub, err := client.NewKey()
	require.NoError(t, err)
	_, err = anon.Signup(context.Background(), wire.Login{Invite: m[1], Password: rotPW, PublicKeyPEM: string(pub)})
	require.NoError(t, err)
	return func() (wire.Cert, []byte) {
		t.Helper()
		key, pub, err := client.NewKey()
		require.NoError(t, err)
		c, err := anon.Login(context.Background(), wire.Login{User: name, Password: rotPW, PublicKeyPEM: string(pub)})
		require.NoError(t, err)
		return c, key
	}
}

// verifiesAgainst says whether certPEM chains to the PEM bundle (the text
// of tollctl auth export).
func verifiesAgainst(t *testing.T, certPEM, bundle string) bool {
	t.Helper()
	cert, err := pki.ParseCertPEM([]byte(certPEM))
	require.NoError(t, err)
	pool, err := pki.Pool([]byte(bundle))
	require.NoError(t, err)
	_, err = cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return err == nil
}

func saveProfile(t *testing.T, proxy, user string, c wire.Cert, key, hostCAs []byte) string {
	t.Helper()
	home := t.TempDir()
	p := &profile.Profile{Dir: home, Proxy: proxy, User: user, CertPEM: []byte(c.CertPEM), KeyPEM: key, HostCAPEM: hostCAs}
	require.NoError(t, p.Save())
	return home
}

// TestCLIRotate drives tollctl auth rotate against a real node: a user CA
// rotation through every phase with a login at each, a rollback, a host CA
// rotation during which a remote tollctl identity keeps working, and the
// refusals.
func TestCLIRotate(t *testing.T) {
	n := nodetest.Start(t, nil)
	t.Setenv("TOLLGATE_HOME", t.TempDir())
	admin := cli{t: t, n: n, args: []string{"--data-dir", n.DataDir}}
	oldHost := strings.Join(mustExport(t, admin, "host"), "")
	anon, err := client.Anonymous(n.Addr, []byte(oldHost))
	require.NoError(t, err)
	defer anon.Close()
	aliceLogin := rotUser(t, admin, anon, "alice", "access")
	opsLogin := rotUser(t, admin, anon, "ops", "editor")

	// Refusals: an access-only user may not rotate; next and rollback in
	// standby; a bad phase.
	ac, akey := aliceLogin()
	t.Setenv("TOLLGATE_HOME", saveProfile(t, n.Addr, "alice", ac, akey, []byte(oldHost)))
	alice := cli{t: t, n: n}
	require.Contains(t, alice.fail("auth", "rotate", "--type=user"), "may not rotate cert_authority")
	require.Contains(t, admin.fail("auth", "rotate", "--type=user", "--phase=next"), "user CA is not rotating (phase standby)")
	require.Contains(t, admin.fail("auth", "rotate", "--type=user", "--phase=rollback"), "nothing to roll back")
	require.Contains(t, admin.fail("auth", "rotate", "--type=user", "--phase=sideways"), "use start, next or rollback")
	require.Contains(t, admin.fail("auth", "rotate", "--type=user", "--auto", "--phase=next"), "leave out --phase")
	require.Contains(t, admin.ok("status"), "rotation: standby")

	// User CA: every phase, alice logs in at each and her cert verifies
	// against the exported bundle (old+new while rotating, new after).
	oldUser := admin.ok("auth", "export", "--type=user")
	for _, s := range []struct {
		args    []string
		phase   string
		trusted int
	}{
		{nil, "init", 2},
		{[]string{"--phase=next"}, "update_clients", 2},
		{[]string{"--phase=next"}, "update_servers", 2},
		{[]string{"--phase=next"}, "standby", 1},
	} {
		out := admin.ok(append([]string{"auth", "rotate", "--type=user"}, s.args...)...)
		require.Contains(t, out, "user CA: now in phase "+s.phase, out)
		require.Regexp(t, "(?m)^CA user .*rotation: "+s.phase+`\)$`, admin.ok("status"))
		bundle := admin.ok("auth", "export", "--type=user")
		require.Len(t, mustExport(t, admin, "user"), s.trusted, "phase %s", s.phase)
		c, _ := aliceLogin()
		require.True(t, verifiesAgainst(t, c.CertPEM, bundle), "alice's cert in phase %s", s.phase)
		require.Equal(t, s.phase != "standby", verifiesAgainst(t, ac.CertPEM, bundle), "the cert from before the rotation in phase %s", s.phase)
		if s.phase != "standby" {
			require.Contains(t, out, "--phase=next")
		}
	}
	require.NotEqual(t, oldUser, admin.ok("auth", "export", "--type=user"))

	// Rollback: back to the key before the rollback's rotation.
	before := admin.ok("auth", "export", "--type=user")
	admin.ok("auth", "rotate", "--type=user")
	admin.ok("auth", "rotate", "--type=user", "--phase=next")
	during, _ := aliceLogin()
	require.Contains(t, admin.ok("auth", "rotate", "--type=user", "--phase=rollback"), "Rolled back")
	require.Equal(t, before, admin.ok("auth", "export", "--type=user"))
	require.False(t, verifiesAgainst(t, during.CertPEM, before), "a cert from the abandoned key is not trusted")

	// Host CA: ops uses a login profile trusting only the old host CA, and
	// a stale copy of it that no rotation step updates.
	oc, okey := opsLogin()
	opsHome := saveProfile(t, n.Addr, "ops", oc, okey, []byte(oldHost))
	staleHome := saveProfile(t, n.Addr, "ops", oc, okey, []byte(oldHost))
	ops, stale := cli{t: t, n: n}, cli{t: t, n: n}
	as := func(home string, c cli, ok bool, args ...string) string {
		t.Setenv("TOLLGATE_HOME", home)
		if ok {
			return c.ok(args...)
		}
		return c.fail(args...)
	}
	for _, s := range []struct {
		args      []string
		phase     string
		staleWork bool
	}{
		{nil, "init", true},
		{[]string{"--phase=next"}, "update_clients", true},
		{[]string{"--phase=next"}, "update_servers", false},
		{[]string{"--phase=next"}, "standby", false},
	} {
		out := as(opsHome, ops, true, append([]string{"auth", "rotate", "--type=host"}, s.args...)...)
		require.Contains(t, out, "host CA: now in phase "+s.phase)
		require.Contains(t, as(opsHome, ops, true, "status"), "rotation: "+s.phase, "ops keeps working in phase %s", s.phase)
		require.Contains(t, admin.ok("status"), "rotation: "+s.phase, "the local admin keeps working in phase %s", s.phase)
		if s.staleWork {
			as(staleHome, stale, true, "status")
		} else {
			require.Contains(t, as(staleHome, stale, false, "status"), "certificate", "phase %s", s.phase)
		}
	}
	p, err := profile.Load(opsHome)
	require.NoError(t, err)
	newHost := admin.ok("auth", "export", "--type=host")
	require.Equal(t, newHost, string(p.HostCAPEM), "ops's profile trusts only the new host CA")
	require.NotEqual(t, oldHost, newHost)

	// --auto runs every phase in one call.
	out := admin.ok("auth", "rotate", "--type=db-client", "--auto")
	require.Contains(t, out, "init → update_clients → update_servers → standby")
	require.Len(t, mustExport(t, admin, "db-client"), 1)
}

// TestCLIRotateHostWaitsForAgents: with a joined agent still on an
// old-key host cert, --auto --wait=0 stops in update_servers at once and
// exits non-zero naming it, --phase=next is refused, and --force
// completes. In the next rotation --auto waits in update_servers, saying
// so on stderr, until the agent renews (as agents do within a minute of
// update_servers), then completes; in the one after, the agent never
// renews and --auto stops once its --wait is up, naming it.
func TestCLIRotateHostWaitsForAgents(t *testing.T) {
	n := nodetest.Start(t, nil)
	t.Setenv("TOLLGATE_HOME", t.TempDir())
	admin := cli{t: t, n: n, args: []string{"--data-dir", n.DataDir}}
	ctx := context.Background()
	tok := strings.TrimSpace(admin.ok("tokens", "add", "--type=db", "--format=text"))
	anon, err := client.Anonymous(n.Addr, []byte(strings.Join(mustExport(t, admin, "host"), "")))
	require.NoError(t, err)
	defer anon.Close()
	_, pub, err := client.NewKey()
	require.NoError(t, err)
	joined, err := anon.Join(ctx, wire.Join{Token: tok, Hostname: "agent-1", PublicKeyPEM: string(pub)})
	require.NoError(t, err)

	require.Contains(t, admin.fail("auth", "rotate", "--type=host", "--phase=next", "--wait=1m"), "--wait is for --auto")
	msg := admin.fail("auth", "rotate", "--type=host", "--auto", "--wait=0")
	require.Contains(t, msg, "stopped in phase update_servers")
	require.Contains(t, msg, "agents "+joined.AgentID+" still use host certs from the old key")
	require.Contains(t, msg, "--force")
	require.Contains(t, admin.ok("status"), "rotation: update_servers")
	require.Len(t, mustExport(t, admin, "host"), 2)

	require.Contains(t, admin.fail("auth", "rotate", "--type=host", "--phase=next"), joined.AgentID+" still use host certs")
	out := admin.ok("auth", "rotate", "--type=host", "--phase=next", "--force")
	require.Contains(t, out, "host CA: now in phase standby")
	require.Len(t, mustExport(t, admin, "host"), 1)

	// --auto waits for the renewal, then completes.
	var stdout, stderr testio.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--data-dir", n.DataDir, "auth", "rotate", "--type=host", "--auto"}, strings.NewReader(""), &stdout, &stderr)
	}()
	require.Eventually(t, func() bool {
		return strings.Contains(stderr.String(), "waiting up to 3m0s for 1 agent(s) to renew their host certs from the new key (agents renew within a minute): "+joined.AgentID)
	}, 60*time.Second, 10*time.Millisecond, "stderr: %s", stderr.String())
	require.Contains(t, stderr.String(), "host CA: init → update_clients → update_servers;")
	_, err = n.Env.Control.Agents().Renew(ctx, control.Caller{Kind: control.CallerHost, Name: joined.AgentID}, wire.AgentRenew{PublicKeyPEM: string(pub)})
	require.NoError(t, err)
	select {
	case code := <-done:
		require.Equal(t, 0, code, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("tollctl auth rotate --auto did not finish after the agent renewed; stderr: %s", stderr.String())
	}
	require.Contains(t, stderr.String(), "renewed: "+joined.AgentID+"; still waiting for 0: none")
	require.Contains(t, stdout.String(), "host CA: now in phase standby (steps: init → update_clients → update_servers → standby)")
	require.Len(t, mustExport(t, admin, "host"), 1)
	require.Contains(t, admin.ok("status"), "rotation: standby")

	// The agent never renews: --auto stops when its wait is up.
	msg = admin.fail("auth", "rotate", "--type=host", "--auto", "--wait=1s")
	require.Contains(t, msg, "waiting up to 1s for 1 agent(s)")
	require.Contains(t, msg, "the rotation stopped in phase update_servers: Stopped in update_servers after waiting 1s: agents "+
		joined.AgentID+" still use host certs from the old key")
	require.Contains(t, msg, "--phase=next")
	require.Contains(t, admin.ok("status"), "rotation: update_servers")
}
