package client

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/schemas"
)

// hostCA makes a host CA of cluster and a server cert from it for hosts.
func hostCA(t *testing.T, cluster string, hosts ...string) (caPEM []byte, cert tls.Certificate) {
	t.Helper()
	now := time.Now()
	caPEM, key, err := pki.NewCA(schemas.CAHost, "", cluster, now, time.Hour)
	require.NoError(t, err)
	iss, err := pki.NewIssuer(caPEM, key)
	require.NoError(t, err)
	certPEM, keyPEM, _, err := iss.Issue(context.Background(), pki.Request{Kind: schemas.CertKindHost, CommonName: "control",
		Hosts: hosts, Now: now, TTL: time.Hour})
	require.NoError(t, err)
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	return caPEM, cert
}

// TestTrustErrors: a TLS server (a stand-in for control, one piece)
// whose cert this client cannot verify gives an error that says what to
// check, not a bare x509 error: another host CA (rotated, or another
// cluster, named from the cert's issuer) or a name the cert lacks.
func TestTrustErrors(t *testing.T) {
	t.Parallel()
	servedCA, served := hostCA(t, "prod", "127.0.0.1")
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"cluster":"prod"}`))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{served}}
	srv.StartTLS()
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	ctx := context.Background()

	oldCA, _ := hostCA(t, "prod")
	c, err := Anonymous(addr, oldCA)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Ping(ctx)
	var te *TrustError
	require.ErrorAs(t, err, &te)
	for _, want := range []string{"control at " + addr + ` presented a certificate from "Tollgate host CA" of cluster "prod"`,
		"which this identity does not trust", "was the cluster's host CA rotated", "toll login --proxy=" + addr, "--ca-pin=sha256:"} {
		require.Contains(t, err.Error(), want)
	}

	pool, err := pki.Pool(servedCA)
	require.NoError(t, err)
	ok := New(addr, &tls.Config{RootCAs: pool})
	defer ok.Close()
	_, err = ok.Ping(ctx)
	require.NoError(t, err, "the right CA and name verify")
	named := New(addr, &tls.Config{RootCAs: pool, ServerName: "control.example.com"})
	defer named.Close()
	_, err = named.Ping(ctx)
	require.ErrorAs(t, err, &te)
	require.Contains(t, err.Error(), `control's certificate is not valid for "control.example.com" (it names 127.0.0.1)`)
	require.Contains(t, err.Error(), "control.public_addr")

	// Not a TLS verification failure: unchanged.
	plain := context.DeadlineExceeded
	require.Equal(t, plain, trustError(addr, plain))
}
