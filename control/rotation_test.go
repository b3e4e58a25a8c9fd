package control

import (
	"bytes"
	"context"
	"crypto/x509"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
	"github.com/tollgate-db/tollgate/internal/profile"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

const rotPassword = "correct horse battery"

// addLoginUser creates user with roles and a password.
func addLoginUser(t *testing.T, f *fixture, name string, roles ...string) {
	t.Helper()
	ctx := context.Background()
	inv, err := f.svc.Users().Add(ctx, f.admin, schemas.User{Name: name, Roles: roles})
	require.NoError(t, err)
	_, err = f.svc.Auth().Signup(ctx, wire.Login{Invite: inv.Invite, Password: rotPassword, PublicKeyPEM: pubKey(t)}, "")
	require.NoError(t, err)
}

func loginCert(t *testing.T, f *fixture, name string) *x509.Certificate {
	t.Helper()
	c, err := f.svc.Auth().Login(context.Background(), wire.Login{User: name, Password: rotPassword, PublicKeyPEM: pubKey(t)}, "")
	require.NoError(t, err)
	cert, err := pki.ParseCertPEM([]byte(c.CertPEM))
	require.NoError(t, err)
	return cert
}

// verifies says whether cert chains to one of the exported PEMs.
func verifies(t *testing.T, cert *x509.Certificate, pems []string, usage x509.ExtKeyUsage) bool {
	t.Helper()
	pool, err := pki.Pool([]byte(strings.Join(pems, "")))
	require.NoError(t, err)
	_, err = cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}})
	return err == nil
}

func signedByPEM(t *testing.T, cert *x509.Certificate, caPEM string) bool {
	t.Helper()
	ca, err := pki.ParseCertPEM([]byte(caPEM))
	require.NoError(t, err)
	return cert.CheckSignatureFrom(ca) == nil
}

func rotate(t *testing.T, f *fixture, typ, action string) wire.Rotation {
	t.Helper()
	out, err := f.svc.CAs().Rotate(context.Background(), f.admin, wire.RotateRequest{Type: typ, Action: action})
	require.NoError(t, err)
	return out
}

func TestRotateUserCA(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	addLoginUser(t, f, "alice", "access")
	adminDir := AdminDir(f.dir)
	_, err := f.svc.EnsureAdminIdentity(ctx, "127.0.0.1:7080")
	require.NoError(t, err)

	oldPEM, err := f.svc.CAs().Export(f.admin, "user")
	require.NoError(t, err)
	require.Len(t, oldPEM, 1)
	before := loginCert(t, f, "alice")

	steps := []struct {
		action, phase string
		trusted       int
		newSigns      bool
	}{
		{wire.RotateStart, schemas.PhaseInit, 2, false},
		{wire.RotateNext, schemas.PhaseUpdateClients, 2, true},
		{wire.RotateNext, schemas.PhaseUpdateServers, 2, true},
		{wire.RotateNext, schemas.PhaseStandby, 1, true},
	}
	var newPEM string
	for _, s := range steps {
		out := rotate(t, f, "user", s.action)
		require.Equal(t, s.phase, out.Phase, s.action)
		require.Equal(t, []string{s.phase}, out.Phases)
		require.NotEmpty(t, out.Hint)
		if s.action == wire.RotateStart {
			require.NotEmpty(t, out.NextPin)
			newPEM = out.Trusted[1]
		}
		exported, err := f.svc.CAs().Export(f.admin, "user")
		require.NoError(t, err)
		require.Len(t, exported, s.trusted, "phase %s", s.phase)
		require.Contains(t, exported, newPEM)
		cert := loginCert(t, f, "alice")
		require.True(t, verifies(t, cert, exported, x509.ExtKeyUsageClientAuth), "login cert in phase %s", s.phase)
		require.Equal(t, s.newSigns, signedByPEM(t, cert, newPEM), "signed by the new key in phase %s", s.phase)
		// The caller is identified by control in every phase.
		c, err := f.svc.Identify(cert)
		require.NoError(t, err)
		require.Equal(t, "alice", c.Name)
		// The cert from before the rotation works until completion.
		require.Equal(t, s.phase != schemas.PhaseStandby, verifies(t, before, exported, x509.ExtKeyUsageClientAuth))
		// The local admin identity stays trusted.
		p, err := profile.Load(adminDir)
		require.NoError(t, err)
		ac, err := p.Certificate()
		require.NoError(t, err)
		require.True(t, verifies(t, ac, exported, x509.ExtKeyUsageClientAuth), "admin identity in phase %s", s.phase)
	}
	_, err = f.svc.Identify(before)
	require.Error(t, err, "a cert from the old key is refused after completion")
	st, err := f.svc.Cluster().Status(f.admin)
	require.NoError(t, err)
	require.Equal(t, schemas.PhaseStandby, st.CAs[0].Phase)
}

func TestRotateRollback(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	addLoginUser(t, f, "alice", "access")
	oldPEM, err := f.svc.CAs().Export(f.admin, "user")
	require.NoError(t, err)
	rotate(t, f, "user", wire.RotateStart)
	out := rotate(t, f, "user", wire.RotateNext)
	require.Equal(t, schemas.PhaseUpdateClients, out.Phase)
	during := loginCert(t, f, "alice")
	require.False(t, signedByPEM(t, during, oldPEM[0]))

	out = rotate(t, f, "user", wire.RotateRollback)
	require.Equal(t, schemas.PhaseStandby, out.Phase)
	require.Contains(t, out.Hint, "Rolled back")
	exported, err := f.svc.CAs().Export(f.admin, "user")
	require.NoError(t, err)
	require.Equal(t, oldPEM, exported, "only the old key is trusted again")
	require.False(t, verifies(t, during, exported, x509.ExtKeyUsageClientAuth), "a cert from the abandoned key is not trusted")
	after := loginCert(t, f, "alice")
	require.True(t, signedByPEM(t, after, oldPEM[0]))
	// A new rotation can start after a rollback.
	require.Equal(t, schemas.PhaseInit, rotate(t, f, "user", wire.RotateStart).Phase)
}

func TestRotateRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	addLoginUser(t, f, "bob", "access")
	bob := Caller{Kind: CallerUser, Name: "bob"}
	_, err := f.svc.CAs().Rotate(ctx, bob, wire.RotateRequest{Type: "user"})
	require.Equal(t, CodeForbidden, apiCode(t, err))
	require.ErrorContains(t, err, "may not rotate cert_authority")

	for _, tc := range []struct {
		req  wire.RotateRequest
		want string
	}{
		{wire.RotateRequest{Type: "user", Action: "next"}, "user CA is not rotating (phase standby), so there is nothing to advance"},
		{wire.RotateRequest{Type: "host", Action: "rollback"}, "host CA is not rotating (phase standby), so there is nothing to roll back"},
		{wire.RotateRequest{Type: "nope"}, "use user, host, db or db-client"},
		{wire.RotateRequest{Type: "db", Action: "sideways"}, "use start, next, rollback or auto"},
		{wire.RotateRequest{Type: "db", KeyAlg: "DSA-512"}, "key algorithm"},
	} {
		_, err := f.svc.CAs().Rotate(ctx, f.admin, tc.req)
		require.Equal(t, CodeInvalid, apiCode(t, err), "%+v", tc.req)
		require.ErrorContains(t, err, tc.want)
	}
	rotate(t, f, "host", wire.RotateStart)
	rotate(t, f, "host", wire.RotateNext)
	_, err = f.svc.CAs().Rotate(ctx, f.admin, wire.RotateRequest{Type: "host"})
	require.ErrorContains(t, err,
		"host CA is in phase update_clients: run `tollctl auth rotate --type=host --phase=next` or `--phase=rollback`")
	// The refused attempts appended nothing.
	st, err := f.svc.Cluster().Status(f.admin)
	require.NoError(t, err)
	for _, ca := range st.CAs {
		want := schemas.PhaseStandby
		if ca.Type == schemas.CAHost {
			want = schemas.PhaseUpdateClients
		}
		require.Equal(t, want, ca.Phase, ca.Type)
	}
}

func TestRotateConcurrentStart(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.svc.CAs().Rotate(ctx, f.admin, wire.RotateRequest{Type: "db_client"})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		code := apiCode(t, err)
		require.Contains(t, []string{CodeConflict, CodeInvalid}, code, "%v", err)
	}
	require.Equal(t, 1, ok, "exactly one start wins: %v", errs)
	pems, err := f.svc.CAs().Export(f.admin, "db-client")
	require.NoError(t, err)
	require.Len(t, pems, 2)
}

// TestRotateHostServerCert: control's own cert moves to the new key in
// update_servers (not before: clients trusting only the old host CA keep
// working through update_clients), and back on rollback.
func TestRotateHostServerCert(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.EnsureAdminIdentity(ctx, "127.0.0.1:7080")
	require.NoError(t, err)
	first, err := f.svc.ServerCertificate(ctx)
	require.NoError(t, err)
	get := f.svc.CertificateSource(ctx, first)
	served := func() *x509.Certificate {
		c, err := get(nil)
		require.NoError(t, err)
		require.NotNil(t, c.Leaf)
		return c.Leaf
	}
	oldPEM, err := f.svc.CAs().Trusted("host")
	require.NoError(t, err)
	require.True(t, signedByPEM(t, served(), oldPEM[0]))

	start := rotate(t, f, "host", wire.RotateStart)
	newPEM := start.Trusted[1]
	require.True(t, signedByPEM(t, served(), oldPEM[0]), "init: the old key serves")
	rotate(t, f, "host", wire.RotateNext)
	require.True(t, signedByPEM(t, served(), oldPEM[0]), "update_clients: the old key serves")
	rotate(t, f, "host", wire.RotateNext)
	require.True(t, signedByPEM(t, served(), newPEM), "update_servers: the new key serves")
	p, err := profile.Load(AdminDir(f.dir))
	require.NoError(t, err)
	require.Equal(t, oldPEM[0]+newPEM, string(p.HostCAPEM), "the admin identity trusts both")

	rotate(t, f, "host", wire.RotateRollback)
	require.True(t, signedByPEM(t, served(), oldPEM[0]), "rolled back: the old key serves again")

	out := rotate(t, f, "host", wire.RotateAuto)
	require.Equal(t, []string{schemas.PhaseInit, schemas.PhaseUpdateClients, schemas.PhaseUpdateServers, schemas.PhaseStandby}, out.Phases)
	require.Len(t, out.Trusted, 1)
	require.True(t, signedByPEM(t, served(), out.Trusted[0]), "completed: the new key serves")
	p, err = profile.Load(AdminDir(f.dir))
	require.NoError(t, err)
	require.Equal(t, out.Trusted[0], string(p.HostCAPEM), "the admin identity trusts only the new host CA")
	require.Equal(t, out.ActivePin, p.CAPin)
}

// TestRotateHostWaitsForAgents: completing a host CA rotation waits until
// every joined agent holds a host cert from the new key (recorded as
// host_cert_key_id at join and renewal): next is refused naming the
// stale agents, auto stops in update_servers with that hint, and Force
// completes anyway.
func TestRotateHostWaitsForAgents(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	join := func(host string) Caller {
		tok, err := f.svc.Tokens().Add(ctx, f.admin, wire.TokenAdd{Type: "db"})
		require.NoError(t, err)
		j, err := f.svc.Agents().Join(ctx, wire.Join{Token: tok.Value, Hostname: host, PublicAddr: host + ":7432", PublicKeyPEM: pubKey(t)}, "test")
		require.NoError(t, err)
		return Caller{Kind: CallerHost, Name: j.AgentID}
	}
	a1, a2 := join("db1"), join("db2")
	keyOf := func(c Caller) (key string) {
		f.svc.View(func(st *projections.State) { key = st.Agents[c.Name].HostCertKeyID })
		return key
	}
	caKeys := func() (active, next string) {
		f.svc.View(func(st *projections.State) {
			ca := st.CAs[schemas.CAHost]
			active = ca.Active.KeyID
			if ca.Next != nil {
				next = ca.Next.KeyID
			}
		})
		return active, next
	}
	old, _ := caKeys()
	require.Equal(t, old, keyOf(a1), "join records the signing key")
	require.Equal(t, old, keyOf(a2))

	out := rotate(t, f, schemas.CAHost, wire.RotateAuto)
	require.Equal(t, []string{schemas.PhaseInit, schemas.PhaseUpdateClients, schemas.PhaseUpdateServers}, out.Phases)
	require.Equal(t, schemas.PhaseUpdateServers, out.Phase)
	require.Contains(t, out.Hint, "agents "+a1.Name+", "+a2.Name+" still use host certs from the old key")
	require.Contains(t, out.Hint, "--force")
	require.Equal(t, []string{a1.Name, a2.Name}, out.Waiting)
	waiting := func() []string {
		t.Helper()
		r, err := f.svc.CAs().Rotation(f.admin, "host")
		require.NoError(t, err)
		require.Equal(t, schemas.PhaseUpdateServers, r.Phase)
		return r.Waiting
	}
	require.Equal(t, []string{a1.Name, a2.Name}, waiting(), "the read-only view names them too")

	_, err := f.svc.CAs().Rotate(ctx, f.admin, wire.RotateRequest{Type: schemas.CAHost, Action: wire.RotateNext})
	require.Equal(t, CodeConflict, apiCode(t, err))
	require.Contains(t, err.Error(), a1.Name+", "+a2.Name)
	require.Contains(t, err.Error(), "`tollctl auth rotate --type=host --phase=next` again")

	_, next := caKeys()
	_, err = f.svc.Agents().Renew(ctx, a1, wire.AgentRenew{PublicKeyPEM: pubKey(t)})
	require.NoError(t, err)
	require.Equal(t, next, keyOf(a1), "renewal records the new key")
	require.Equal(t, []string{a2.Name}, waiting())
	f.svc.View(func(st *projections.State) {
		require.Equal(t, "db1:7432", st.Agents[a1.Name].PublicAddr, "renewal keeps the agent's fields")
	})
	_, err = f.svc.CAs().Rotate(ctx, f.admin, wire.RotateRequest{Type: schemas.CAHost, Action: wire.RotateNext})
	require.Equal(t, CodeConflict, apiCode(t, err))
	require.Contains(t, err.Error(), "agents "+a2.Name+" still use")

	_, err = f.svc.Agents().Renew(ctx, a2, wire.AgentRenew{PublicKeyPEM: pubKey(t)})
	require.NoError(t, err)
	require.Empty(t, waiting())
	out = rotate(t, f, schemas.CAHost, wire.RotateNext)
	require.Equal(t, schemas.PhaseStandby, out.Phase)
	require.Empty(t, out.Waiting)
	addLoginUser(t, f, "bob", "access")
	_, err = f.svc.CAs().Rotation(Caller{Kind: CallerUser, Name: "bob"}, "host")
	require.Equal(t, CodeForbidden, apiCode(t, err), "describing a rotation needs the cert_authority read right")

	// Force: auto completes with every agent on the (now) old key.
	out, err = f.svc.CAs().Rotate(ctx, f.admin, wire.RotateRequest{Type: schemas.CAHost, Action: wire.RotateAuto, Force: true})
	require.NoError(t, err)
	require.Equal(t, schemas.PhaseStandby, out.Phase)
	active, _ := caKeys()
	require.NotEqual(t, active, keyOf(a1))

	// Other CAs do not wait for agents.
	out = rotate(t, f, schemas.CAUser, wire.RotateAuto)
	require.Equal(t, schemas.PhaseStandby, out.Phase)
}

// TestStaleAgentsUnrecorded: an agent without a recorded key (joined
// before host_cert_key_id existed) counts as on the old key.
func TestStaleAgentsUnrecorded(t *testing.T) {
	t.Parallel()
	st := &projections.State{
		CAs: map[string]*projections.CA{schemas.CAHost: {Phase: schemas.PhaseUpdateServers, Next: &projections.CAKey{KeyID: "host-new"}}},
		Agents: map[string]*projections.Agent{
			"b": {Agent: schemas.Agent{ID: "b"}},
			"a": {Agent: schemas.Agent{ID: "a", HostCertKeyID: "host-old"}},
			"c": {Agent: schemas.Agent{ID: "c", HostCertKeyID: "host-new"}},
		},
	}
	require.Equal(t, []string{"a", "b"}, staleAgentsIn(st, schemas.CAHost))
	require.Empty(t, staleAgentsIn(st, schemas.CAUser))
}

// TestCAsNameTheCluster: the CAs a cluster starts with carry its name in
// the subject's O, as rotated ones do, also when the config names no
// cluster (the name then comes from the host, through the log).
func TestCAsNameTheCluster(t *testing.T) {
	t.Parallel()
	f := &fixture{ctl: memlog.New(eventlog.ControlStream), aud: memlog.New(eventlog.AuditStream), dir: t.TempDir(), logs: &bytes.Buffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	svc, err := New(Config{Control: f.ctl, Audit: f.aud, DataDir: f.dir, Logger: zerolog.New(f.logs)})
	require.NoError(t, err)
	require.NoError(t, svc.Start(ctx))
	f.svc, f.admin = svc, Caller{Kind: CallerUser, Name: AdminUser}
	st, err := svc.Cluster().Status(f.admin)
	require.NoError(t, err)
	require.NotEmpty(t, st.Cluster)
	org := func(typ string) []string {
		pems, err := svc.CAs().Export(f.admin, typ)
		require.NoError(t, err)
		c, err := pki.ParseCertPEM([]byte(pems[len(pems)-1]))
		require.NoError(t, err)
		return c.Subject.Organization
	}
	for _, typ := range CATypes {
		require.Equal(t, []string{st.Cluster}, org(typ), "first %s CA", typ)
	}
	rotate(t, f, schemas.CAUser, wire.RotateStart)
	require.Equal(t, []string{st.Cluster}, org(schemas.CAUser), "rotated user CA")
}
