package pki_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/schemas"
)

func signOutput(t *testing.T, now time.Time, hosts ...string) pki.SignOutput {
	t.Helper()
	db := newIssuerAt(t, schemas.CADB, now)
	dbc := newIssuerAt(t, schemas.CADBClient, now)
	certPEM, keyPEM, _, err := db.Issue(context.Background(), pki.Request{Kind: schemas.CertKindDBServer, CommonName: "node",
		Hosts: hosts, ClientAuth: true, Now: now, TTL: 2190 * time.Hour})
	require.NoError(t, err)
	return pki.SignOutput{CertPEM: certPEM, KeyPEM: keyPEM, DBCA: pki.Bundle(db.CertPEM()), ClientCA: pki.Bundle(dbc.CertPEM())}
}

func newIssuerAt(t *testing.T, kind string, now time.Time) *pki.Issuer {
	t.Helper()
	certPEM, key, err := pki.NewCA(kind, "", "test-cluster", now, 24*time.Hour*365)
	require.NoError(t, err)
	iss, err := pki.NewIssuer(certPEM, key)
	require.NoError(t, err)
	return iss
}

func TestWriters(t *testing.T) {
	t.Parallel()
	out := signOutput(t, t0, "roach", "node-1")
	tests := []struct {
		name  string
		write func(dir string, overwrite bool) ([]string, error)
		files map[string][]byte
		key   string
	}{
		{"cockroachdb", func(d string, o bool) ([]string, error) { return pki.WriteCockroachDB(d, out, o) },
			map[string][]byte{"ca.crt": out.DBCA, "ca-client.crt": out.ClientCA, "node.crt": out.CertPEM, "node.key": out.KeyPEM}, "node.key"},
		{"db", func(d string, o bool) ([]string, error) { return pki.WriteDB(d, out, o) },
			map[string][]byte{"server.crt": out.CertPEM, "server.key": out.KeyPEM, "server.cas": out.ClientCA}, "server.key"},
		{"tls", func(d string, o bool) ([]string, error) { return pki.WriteTLS(d, "pg", out, o) },
			map[string][]byte{"pg.crt": out.CertPEM, "pg.key": out.KeyPEM, "pg.cas": out.ClientCA}, "pg.key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "certs")
			paths, err := tc.write(dir, false)
			require.NoError(t, err)
			require.Len(t, paths, len(tc.files))
			for name, want := range tc.files {
				got, err := os.ReadFile(filepath.Join(dir, name))
				require.NoError(t, err)
				require.Equal(t, want, got, name)
				fi, err := os.Stat(filepath.Join(dir, name))
				require.NoError(t, err)
				if name == tc.key {
					require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
				} else {
					require.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), name)
				}
			}
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, len(tc.files), "no temp files left")

			// A second run refuses, names a file and the flag, and changes nothing.
			require.NoError(t, os.WriteFile(filepath.Join(dir, tc.key), []byte("old"), 0o644))
			_, err = tc.write(dir, false)
			require.ErrorIs(t, err, pki.ErrExists)
			require.ErrorContains(t, err, "--overwrite")
			require.Regexp(t, `certs/[a-z.-]+: file already exists`, err.Error())
			got, err := os.ReadFile(filepath.Join(dir, tc.key))
			require.NoError(t, err)
			require.Equal(t, "old", string(got))

			_, err = tc.write(dir, true)
			require.NoError(t, err)
			fi, err := os.Stat(filepath.Join(dir, tc.key))
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "overwritten key is 0600 again")
		})
	}
	_, err := pki.WriteTLS(t.TempDir(), "../x", out, false)
	require.ErrorIs(t, err, pki.ErrInvalid)
	_, err = pki.WriteDB(t.TempDir(), pki.SignOutput{}, false)
	require.ErrorIs(t, err, pki.ErrInvalid)
}
