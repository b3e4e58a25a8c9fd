package join

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/schemas"
)

func newHostCA(t *testing.T, cluster string) (*pki.Issuer, string, string) {
	t.Helper()
	certPEM, key, err := pki.NewCA(schemas.CAHost, pki.AlgECDSAP256, cluster, time.Now(), time.Hour)
	require.NoError(t, err)
	iss, err := pki.NewIssuer(certPEM, key)
	require.NoError(t, err)
	pin, err := pki.Pin(certPEM)
	require.NoError(t, err)
	return iss, string(certPEM), pin
}

// TestMismatchAndIssuedBy: a config naming the proxy and pin the agent
// joined with (or a pin of a host CA it trusts now, after a rotation) is
// no mismatch; another proxy or pin is, and says which. An identity from
// before proxy and pin were recorded is judged by its trusted host CAs
// only. IssuedBy tells the CA of the host cert from another.
func TestMismatchAndIssuedBy(t *testing.T) {
	t.Parallel()
	iss, caPEM, pin := newHostCA(t, "a")
	_, otherPEM, otherPin := newHostCA(t, "b")
	_, rotatedPEM, rotatedPin := newHostCA(t, "a")
	certPEM, _, _, err := iss.Issue(context.Background(), pki.Request{Kind: schemas.CertKindHost, CommonName: "agent-1",
		Hosts: []string{"agent-1"}, KeyAlg: pki.AlgECDSAP256, Now: time.Now(), TTL: time.Hour})
	require.NoError(t, err)
	id := &Identity{AgentID: "agent-1", Proxy: "ctl:7080", CAPin: pin, CertPEM: string(certPEM), HostCAPEM: []string{caPEM, rotatedPEM}}

	require.Empty(t, id.Mismatch("ctl:7080", pin))
	require.Empty(t, id.Mismatch("ctl:7080", ""), "no pin configured: nothing to compare")
	require.Empty(t, id.Mismatch("ctl:7080", " "+rotatedPin+" "), "a pin of a CA it trusts now")
	require.Equal(t, "tollgate.proxy_server is other:7080, but it joined through ctl:7080", id.Mismatch("other:7080", pin))
	require.Equal(t, "tollgate.ca_pin is "+otherPin+", but it joined a cluster whose host CA pin is "+pin, id.Mismatch("ctl:7080", otherPin))

	legacy := &Identity{AgentID: "agent-1", CertPEM: string(certPEM), HostCAPEM: []string{caPEM}}
	require.Empty(t, legacy.Mismatch("anything:7080", pin), "no recorded proxy: not compared")
	require.Contains(t, legacy.Mismatch("ctl:7080", otherPin), "whose host CA pin is "+pin)

	require.True(t, id.IssuedBy([]string{otherPEM + caPEM}), "a bundle holding its CA")
	require.True(t, id.IssuedBy([]string{otherPEM, caPEM}))
	require.False(t, id.IssuedBy([]string{otherPEM, rotatedPEM}))
	require.False(t, (&Identity{CertPEM: "junk"}).IssuedBy([]string{caPEM}))
}
