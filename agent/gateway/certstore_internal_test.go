package gateway

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/schemas"
)

func issueDBClient(t *testing.T, ttl time.Duration) *tls.Certificate {
	t.Helper()
	caPEM, caKey, err := pki.NewCA(schemas.CADBClient, pki.AlgECDSAP256, "t", time.Now(), 24*time.Hour)
	require.NoError(t, err)
	iss, err := pki.NewIssuer(caPEM, caKey)
	require.NoError(t, err)
	c, k, _, err := iss.Issue(context.Background(), pki.Request{Kind: schemas.CertKindDBClient, CommonName: "alice",
		KeyAlg: pki.AlgECDSAP256, Now: time.Now(), TTL: ttl, NotAfter: time.Now().Add(ttl)})
	require.NoError(t, err)
	pair, err := tls.X509KeyPair(c, k)
	require.NoError(t, err)
	return &pair
}

// TestCachedDBClientCertsSurviveARestart: a cached db_client cert is kept
// in a 0600 file and is in the cache of the next process; expired ones and
// those a rotation dropped are removed.
func TestCachedDBClientCertsSurviveARestart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), certDirName)
	now := time.Now()
	live, short := issueDBClient(t, time.Hour), issueDBClient(t, time.Minute)
	kLive, kShort, kOld := certKey{"alice", "roach", "new"}, certKey{"bob", "roach", "new"}, certKey{"carol", "roach", "old"}
	c := &clientCerts{dir: dir}
	for k, cert := range map[certKey]*tls.Certificate{kLive: live, kShort: short, kOld: live} {
		require.NoError(t, c.save(k, cert))
	}
	st, err := os.Stat(kLive.file(dir))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	c.m = map[certKey]certEntry{kOld: {cert: live, notAfter: now.Add(time.Hour)}}
	c.retain("new")
	require.NoFileExists(t, kOld.file(dir), "a rotation's dropped cert goes from disk too")

	next := &clientCerts{dir: dir}
	next.load(now)
	require.Len(t, next.m, 1)
	got := next.m[kLive]
	require.NotNil(t, got.cert)
	require.Equal(t, live.Certificate[0], got.cert.Certificate[0])
	require.WithinDuration(t, live.Leaf.NotAfter, got.notAfter, time.Second)
	require.NoFileExists(t, kShort.file(dir), "a cert within certMargin of its end is dropped")
}
