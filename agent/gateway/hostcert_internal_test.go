package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

func newTestCA(t *testing.T, name string) testCA {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return testCA{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

func (c testCA) leaf(t *testing.T, notBefore time.Time, life time.Duration) *x509.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "agent"},
		NotBefore: notBefore, NotAfter: notBefore.Add(life)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, c.cert, key.Public(), c.key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert
}

// TestRenewalReason: renew with less than a third of the lifetime left, or
// when the host CA signs host certs with another key in update_servers or
// standby; never because of the new key in init or update_clients (host
// certs still come from the old key there).
func TestRenewalReason(t *testing.T) {
	t.Parallel()
	oldCA, newCA := newTestCA(t, "old"), newTestCA(t, "new")
	oldKey := projections.CAKey{KeyID: "old", CertPEM: oldCA.pem}
	newKey := projections.CAKey{KeyID: "new", CertPEM: newCA.pem}
	ca := func(phase string, active projections.CAKey, next *projections.CAKey) *projections.CA {
		return &projections.CA{Type: schemas.CAHost, Active: active, Next: next, Phase: phase}
	}
	now := time.Now()
	const month = 30 * 24 * time.Hour
	fresh := oldCA.leaf(t, now.Add(-time.Hour), month)
	old := oldCA.leaf(t, now.Add(-21*24*time.Hour), month)
	fromNew := newCA.leaf(t, now.Add(-time.Hour), month)
	for _, tc := range []struct {
		name  string
		cert  *x509.Certificate
		ca    *projections.CA
		renew bool
	}{
		{"fresh, standby", fresh, ca(schemas.PhaseStandby, oldKey, nil), false},
		{"no CA in the projection yet", fresh, nil, false},
		{"two thirds of the lifetime gone", old, ca(schemas.PhaseStandby, oldKey, nil), true},
		{"two thirds gone, no CA", old, nil, true},
		{"init", fresh, ca(schemas.PhaseInit, oldKey, &newKey), false},
		{"update_clients", fresh, ca(schemas.PhaseUpdateClients, oldKey, &newKey), false},
		{"update_servers, old key", fresh, ca(schemas.PhaseUpdateServers, oldKey, &newKey), true},
		{"update_servers, new key", fromNew, ca(schemas.PhaseUpdateServers, oldKey, &newKey), false},
		{"completed, old key", fresh, ca(schemas.PhaseStandby, newKey, nil), true},
		{"completed, new key", fromNew, ca(schemas.PhaseStandby, newKey, nil), false},
		{"rolled back, new key", fromNew, ca(schemas.PhaseStandby, oldKey, nil), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.renew, renewalReason(tc.cert, tc.ca, now) != "", renewalReason(tc.cert, tc.ca, now))
		})
	}
}
