package control

import (
	"context"
	"crypto/tls"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

func TestAgentOfCert(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	tok, err := f.svc.Tokens().Add(ctx, f.admin, wire.TokenAdd{Type: "db"})
	require.NoError(t, err)
	joined, err := f.svc.Agents().Join(ctx, wire.Join{Token: tok.Value, Hostname: "db1", PublicKeyPEM: pubKey(t)}, "test")
	require.NoError(t, err)
	agentCert, err := pki.ParseCertPEM([]byte(joined.CertPEM))
	require.NoError(t, err)
	id, err := f.svc.AgentOfCert(agentCert)
	require.NoError(t, err)
	require.Equal(t, joined.AgentID, id)

	own, err := f.svc.ServerCertificate(ctx)
	require.NoError(t, err)
	_, err = f.svc.AgentOfCert(own.Leaf)
	require.Equal(t, CodeUnauthorized, apiCode(t, err), "control's own host cert is no agent")

	stranger, err := f.svc.pki.issue(ctx, pki.Request{Kind: schemas.CertKindHost, CommonName: "stranger", PublicKey: mustPub(t), TTL: HostCertTTL},
		recipient{who: "stranger", actor: "test"})
	require.NoError(t, err)
	c, err := pki.ParseCertPEM([]byte(stranger.certPEM))
	require.NoError(t, err)
	_, err = f.svc.AgentOfCert(c)
	require.ErrorContains(t, err, "not a joined agent")

	user, err := f.svc.pki.issue(ctx, pki.Request{Kind: schemas.CertKindUser, CommonName: joined.AgentID, PublicKey: mustPub(t), TTL: HostCertTTL},
		recipient{who: joined.AgentID, actor: "test"})
	require.NoError(t, err)
	c, err = pki.ParseCertPEM([]byte(user.certPEM))
	require.NoError(t, err)
	_, err = f.svc.AgentOfCert(c)
	require.ErrorContains(t, err, "not a host cert of this cluster", "a user cert named like an agent is refused")

	tc := f.svc.NATSTLSConfig(ctx, own)
	per, err := tc.GetConfigForClient(&tls.ClientHelloInfo{})
	require.NoError(t, err)
	require.Equal(t, tls.RequireAndVerifyClientCert, per.ClientAuth)
	require.NotNil(t, per.ClientCAs)
	served, err := per.GetCertificate(&tls.ClientHelloInfo{})
	require.NoError(t, err)
	require.Equal(t, own.Leaf.Raw, served.Certificate[0])
}

func mustPub(t *testing.T) any {
	t.Helper()
	p, err := parsePublicKey(pubKey(t))
	require.NoError(t, err)
	return p
}
