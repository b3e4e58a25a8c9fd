package node_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
	"github.com/tollgate-db/tollgate/internal/profile"
	"github.com/tollgate-db/tollgate/internal/testio"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestClientsFailOverWhenAControlStops: two controls on one NATS
// (control.keystore nats); an admin client (tollctl's) and an anonymous
// one (toll login's), both given the two addresses, run a loop of reads,
// writes (join tokens) and logins; halfway the control they use stops.
// Every operation succeeds, the later ones against the other control, and
// the chain of control's audit events (a login is one) verifies.
func TestClientsFailOverWhenAControlStops(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	shared := sharedNATS(t)
	a := nodetest.StartIn(t, t.TempDir(), &testio.Buffer{}, shared)
	b := nodetest.StartIn(t, t.TempDir(), &testio.Buffer{}, shared)
	both := a.Addr + "," + b.Addr

	p, err := profile.Load(control.AdminDir(a.DataDir))
	require.NoError(t, err)
	adm, err := client.FromProfile(p, both)
	require.NoError(t, err)
	t.Cleanup(adm.Close)
	inv, err := adm.UsersAdd(ctx, schemas.User{Name: "alice", Roles: []string{"access"}})
	require.NoError(t, err)
	cas, err := a.Env.Control.CAs().Trusted(schemas.CAHost)
	require.NoError(t, err)
	anon, err := client.Anonymous(both, []byte(strings.Join(cas, "")))
	require.NoError(t, err)
	t.Cleanup(anon.Close)
	pub := publicKeyPEM(t)
	const pw = "correct horse battery staple"
	_, err = anon.Signup(ctx, wire.Login{Invite: inv.Invite, Password: pw, PublicKeyPEM: pub})
	require.NoError(t, err)

	const rounds = 20
	for i := range rounds {
		if i == rounds/2 {
			a.Stop()
		}
		_, err := adm.TokensAdd(ctx, wire.TokenAdd{Type: control.TokenTypeDB, TTL: time.Hour})
		require.NoError(t, err, "round %d: tokens add", i)
		_, err = adm.TokensList(ctx)
		require.NoError(t, err, "round %d: tokens ls", i)
		cert, err := anon.Login(ctx, wire.Login{User: "alice", Password: pw, PublicKeyPEM: pub})
		require.NoError(t, err, "round %d: login", i)
		require.Equal(t, "alice", cert.User)
	}
	_, err = net.DialTimeout("tcp", a.Addr, time.Second)
	require.Error(t, err, "the first control is down: the later rounds ran on the other")
	toks, err := adm.TokensList(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(toks), rounds, "every token written before and after the stop is there")
	require.NoError(t, b.Env.Control.Checkpoint(ctx, schemas.CheckpointShutdown))
	rep, err := adm.AuditVerify(ctx, wire.AuditVerify{})
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep.Problems)
}

func publicKeyPEM(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}
