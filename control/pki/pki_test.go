package pki_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/schemas"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newIssuer(t *testing.T, kind, alg string) *pki.Issuer {
	t.Helper()
	certPEM, key, err := pki.NewCA(kind, alg, "test-cluster", t0, 10*365*24*time.Hour)
	require.NoError(t, err)
	iss, err := pki.NewIssuer(certPEM, key)
	require.NoError(t, err)
	return iss
}

func TestNewCA(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind, alg string
		wantKey   any
	}{
		{schemas.CAUser, "", &ecdsa.PublicKey{}},
		{schemas.CAHost, "ecdsa-p256", &ecdsa.PublicKey{}},
		{schemas.CADB, pki.AlgRSA2048, &rsa.PublicKey{}},
		{schemas.CADBClient, pki.AlgECDSAP256, &ecdsa.PublicKey{}},
	}
	for _, tc := range tests {
		certPEM, key, err := pki.NewCA(tc.kind, tc.alg, "test-cluster", t0, time.Hour)
		require.NoError(t, err)
		c, err := pki.ParseCertPEM(certPEM)
		require.NoError(t, err)
		require.True(t, c.IsCA)
		require.IsType(t, tc.wantKey, c.PublicKey)
		require.Equal(t, tc.kind, pki.CAKind(c))
		require.Equal(t, []string{"test-cluster"}, c.Subject.Organization)
		require.Equal(t, t0.Add(time.Hour), c.NotAfter)
		require.True(t, c.NotBefore.Before(t0))
		require.NoError(t, c.CheckSignatureFrom(c))
		require.True(t, key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(c.PublicKey))
		pin, err := pki.Pin(certPEM)
		require.NoError(t, err)
		require.Regexp(t, `^sha256:[0-9a-f]{64}$`, pin)
		require.Equal(t, pin, pki.PinCert(c))
	}
	_, _, err := pki.NewCA("admin", "", "c", t0, time.Hour)
	require.ErrorIs(t, err, pki.ErrInvalid)
	_, _, err = pki.NewCA(schemas.CAUser, "DSA", "c", t0, time.Hour)
	require.ErrorIs(t, err, pki.ErrInvalid)
	require.ErrorContains(t, err, "ECDSA-P256")
	_, _, err = pki.NewCA(schemas.CAUser, "", "", t0, time.Hour)
	require.ErrorIs(t, err, pki.ErrInvalid)
	require.ErrorContains(t, err, "cluster name")
	_, err = pki.Pin([]byte("garbage"))
	require.Error(t, err)
}

func TestNewIssuerRejectsMismatch(t *testing.T) {
	t.Parallel()
	certPEM, _, err := pki.NewCA(schemas.CAUser, "", "c", t0, time.Hour)
	require.NoError(t, err)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, err = pki.NewIssuer(certPEM, other)
	require.ErrorIs(t, err, pki.ErrInvalid)
}

func TestIssueProfiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	user := newIssuer(t, schemas.CAUser, "")
	host := newIssuer(t, schemas.CAHost, "")
	db := newIssuer(t, schemas.CADB, pki.AlgRSA2048)
	dbc := newIssuer(t, schemas.CADBClient, "")
	client := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	server := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	tests := []struct {
		name    string
		iss     *pki.Issuer
		req     pki.Request
		eku     []x509.ExtKeyUsage
		dns     []string
		ips     []string
		rsaLeaf bool
	}{
		{name: "user", iss: user, req: pki.Request{Kind: schemas.CertKindUser, CommonName: "alice", TTL: 12 * time.Hour}, eku: client},
		{name: "route", iss: user, req: pki.Request{Kind: schemas.CertKindDB, CommonName: "alice", Route: "roach", TTL: time.Hour}, eku: client},
		{name: "host", iss: host, req: pki.Request{Kind: schemas.CertKindHost, CommonName: "agent-1", Hosts: []string{"agent.local", "10.0.0.1"}, TTL: time.Hour},
			eku: both, dns: []string{"agent.local"}, ips: []string{"10.0.0.1"}},
		{name: "db_client", iss: dbc, req: pki.Request{Kind: schemas.CertKindDBClient, CommonName: "app", TTL: time.Hour, NotAfter: t0.Add(10 * time.Minute)}, eku: client},
		{name: "db_server", iss: db, req: pki.Request{Kind: schemas.CertKindDBServer, CommonName: "db1", Hosts: []string{"db1.example", "::1"}, TTL: time.Hour, KeyAlg: pki.AlgRSA2048},
			eku: server, dns: []string{"db1.example"}, ips: []string{"::1"}, rsaLeaf: true},
		{name: "node", iss: db, req: pki.Request{Kind: schemas.CertKindDBServer, CommonName: "node", Hosts: []string{"roach", "node-1", "127.0.0.1"}, ClientAuth: true, TTL: 2190 * time.Hour},
			eku: both, dns: []string{"roach", "node-1"}, ips: []string{"127.0.0.1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Now = t0
			certPEM, keyPEM, cert, err := tc.iss.Issue(ctx, tc.req)
			require.NoError(t, err)
			require.NotEmpty(t, keyPEM)
			key, err := pki.ParseKeyPEM(keyPEM)
			require.NoError(t, err)
			require.True(t, key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(cert.PublicKey))
			if tc.rsaLeaf {
				require.IsType(t, &rsa.PublicKey{}, cert.PublicKey)
			} else {
				require.IsType(t, &ecdsa.PublicKey{}, cert.PublicKey)
			}
			parsed, err := pki.ParseCertPEM(certPEM)
			require.NoError(t, err)
			require.Equal(t, cert.Raw, parsed.Raw)
			require.Equal(t, tc.req.CommonName, cert.Subject.CommonName)
			require.Equal(t, tc.eku, cert.ExtKeyUsage)
			require.Equal(t, tc.dns, cert.DNSNames)
			var ips []string
			for _, ip := range cert.IPAddresses {
				ips = append(ips, ip.String())
			}
			require.Equal(t, tc.ips, ips)
			require.False(t, cert.IsCA)
			require.Equal(t, t0.Add(-time.Minute), cert.NotBefore)
			wantEnd := t0.Add(tc.req.TTL)
			if !tc.req.NotAfter.IsZero() && tc.req.NotAfter.Before(wantEnd) {
				wantEnd = tc.req.NotAfter
			}
			require.Equal(t, wantEnd, cert.NotAfter)
			pool, err := pki.Pool(tc.iss.CertPEM())
			require.NoError(t, err)
			_, err = cert.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: t0, KeyUsages: tc.eku})
			require.NoError(t, err)
			require.Greater(t, cert.SerialNumber.BitLen(), 64)
		})
	}
}

func TestIssueRejects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	user := newIssuer(t, schemas.CAUser, "")
	db := newIssuer(t, schemas.CADB, "")
	dbc := newIssuer(t, schemas.CADBClient, "")
	tests := []struct {
		name string
		iss  *pki.Issuer
		req  pki.Request
		msg  string
	}{
		{"unknown kind", user, pki.Request{Kind: "root", CommonName: "x", TTL: time.Hour}, "cert kind"},
		{"wrong CA", user, pki.Request{Kind: schemas.CertKindDBServer, CommonName: "x", Hosts: []string{"h"}, TTL: time.Hour}, "db CA"},
		{"no CN", user, pki.Request{Kind: schemas.CertKindUser, TTL: time.Hour}, "common name"},
		{"no ttl", user, pki.Request{Kind: schemas.CertKindUser, CommonName: "a"}, "TTL"},
		{"route without db kind", user, pki.Request{Kind: schemas.CertKindUser, CommonName: "a", Route: "r", TTL: time.Hour}, "kind db"},
		{"db without route", user, pki.Request{Kind: schemas.CertKindDB, CommonName: "a", TTL: time.Hour}, "route"},
		{"db_client unbounded", dbc, pki.Request{Kind: schemas.CertKindDBClient, CommonName: "a", TTL: time.Hour}, "NotAfter"},
		{"db_server no hosts", db, pki.Request{Kind: schemas.CertKindDBServer, CommonName: "node", TTL: time.Hour}, "host"},
		{"expired", dbc, pki.Request{Kind: schemas.CertKindDBClient, CommonName: "a", NotAfter: t0.Add(-time.Second)}, "expired"},
		{"bad alg", user, pki.Request{Kind: schemas.CertKindUser, CommonName: "a", TTL: time.Hour, KeyAlg: "ED25519"}, "algorithm"},
	}
	for _, tc := range tests {
		tc.req.Now = t0
		_, _, _, err := tc.iss.Issue(ctx, tc.req)
		require.ErrorIs(t, err, pki.ErrInvalid, tc.name)
		require.ErrorContains(t, err, tc.msg, tc.name)
	}
}

func TestIssueCappedByCAAndGivenKey(t *testing.T) {
	t.Parallel()
	certPEM, key, err := pki.NewCA(schemas.CAUser, "", "c", t0, time.Hour)
	require.NoError(t, err)
	iss, err := pki.NewIssuer(certPEM, key)
	require.NoError(t, err)
	pub, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, keyPEM, cert, err := iss.Issue(context.Background(), pki.Request{Kind: schemas.CertKindUser, CommonName: "a", Now: t0, TTL: 48 * time.Hour, PublicKey: pub.Public()})
	require.NoError(t, err)
	require.Nil(t, keyPEM)
	require.True(t, pub.PublicKey.Equal(cert.PublicKey))
	require.Equal(t, iss.Cert().NotAfter, cert.NotAfter)
}

func TestParseIdentity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	user := newIssuer(t, schemas.CAUser, "")
	for _, tc := range []struct{ user, route string }{
		{"alice", ""},
		{"alice", "roach"},
		{"bob smith@corp:x/y", "route with/slash:colon%"},
		{"ünïcode", "db-ü"},
	} {
		kind := schemas.CertKindUser
		if tc.route != "" {
			kind = schemas.CertKindDB
		}
		_, _, cert, err := user.Issue(ctx, pki.Request{Kind: kind, CommonName: tc.user, Route: tc.route, Now: t0, TTL: time.Hour})
		require.NoError(t, err)
		id, err := pki.ParseIdentity(cert)
		require.NoError(t, err)
		require.Equal(t, tc.user, id.User)
		require.Equal(t, tc.route, id.Database)
		require.Equal(t, cert.SerialNumber.Text(16), id.Serial)
		require.Equal(t, cert.NotAfter, id.NotAfter)
		for _, u := range cert.URIs {
			require.True(t, strings.HasPrefix(u.String(), "tollgate:user:") || strings.HasPrefix(u.String(), "tollgate:db:"), u.String())
		}
	}

	mk := func(cn string, uris ...string) *x509.Certificate {
		c := &x509.Certificate{SerialNumber: t0Serial()}
		c.Subject.CommonName = cn
		for _, s := range uris {
			u, err := url.Parse(s)
			require.NoError(t, err)
			c.URIs = append(c.URIs, u)
		}
		return c
	}
	id, err := pki.ParseIdentity(mk("alice", "tollgate-route://roach"))
	require.NoError(t, err)
	require.Equal(t, pki.Identity{User: "alice", Database: "roach", Serial: "1"}, id)
	for _, bad := range []*x509.Certificate{
		mk(""),
		mk("alice", "tollgate:user:bob"),
		mk("alice", "tollgate:db:a", "tollgate:db:b"),
		mk("alice", "tollgate:db:"),
		mk("alice", "tollgate:db:%zz"),
	} {
		_, err := pki.ParseIdentity(bad)
		require.ErrorIs(t, err, pki.ErrNoIdentity)
	}
}

func TestBundleAndPool(t *testing.T) {
	t.Parallel()
	a, _, err := pki.NewCA(schemas.CADB, "", "c", t0, time.Hour)
	require.NoError(t, err)
	b, _, err := pki.NewCA(schemas.CADB, "", "c", t0, time.Hour)
	require.NoError(t, err)
	bundle := pki.Bundle(a, nil, b, a)
	certs, err := pki.ParseCertsPEM(bundle)
	require.NoError(t, err)
	require.Len(t, certs, 2)
	pool, err := pki.Pool(bundle)
	require.NoError(t, err)
	require.Len(t, pool.Subjects(), 2) //nolint:staticcheck // fine for a test pool
	_, err = pki.Pool([]byte("nope"))
	require.Error(t, err)
}
