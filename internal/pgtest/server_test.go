package pgtest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/internal/pgtest"
)

func TestPlainServerExecCreateRoleAndLog(t *testing.T) {
	t.Parallel()
	s := pgtest.Start(t, pgtest.Config{Settings: map[string]string{"log_statement": "all"}})
	s.CreateRole(t, "Mixed Case")
	s.Exec(t, "CREATE TABLE t (x int); INSERT INTO t VALUES (42); GRANT SELECT ON t TO \"Mixed Case\"")

	ctx := context.Background()
	c, err := pgx.Connect(ctx, fmt.Sprintf("host=%s port=%d user='%s' dbname=postgres sslmode=disable", s.Host(), s.Port(), "Mixed Case"))
	require.NoError(t, err)
	defer c.Close(ctx)
	var x int
	require.NoError(t, c.QueryRow(ctx, "SELECT x FROM t").Scan(&x))
	require.Equal(t, 42, x)
	require.Contains(t, s.LogContents(), "INSERT INTO t VALUES (42); GRANT SELECT ON t TO \"Mixed Case\"")

	dir := s.SocketDir()
	s.Stop()
	_, err = os.Stat(dir)
	require.True(t, os.IsNotExist(err), "temp dir must be removed")
	require.Error(t, s.ExecContext(ctx, "SELECT 1"))
}

func TestExecReportsSQLErrors(t *testing.T) {
	t.Parallel()
	s := pgtest.Start(t, pgtest.Config{})
	err := s.ExecContext(context.Background(), "SELECT * FROM no_such_table")
	require.ErrorContains(t, err, "no_such_table")
}

func TestBinDir(t *testing.T) {
	d, err := pgtest.BinDir()
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(d, "postgres"))

	t.Setenv(pgtest.BinDirEnv, t.TempDir())
	_, err = pgtest.BinDir()
	require.ErrorIs(t, err, pgtest.ErrNotFound)
	require.ErrorContains(t, err, "apt-get install -y postgresql")
}

func TestTLSClientCert(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newCA(t)
	other := newCA(t)
	ca.write(t, dir, "ca")
	srvCert, srvKey := filepath.Join(dir, "srv.crt"), filepath.Join(dir, "srv.key")
	writeLeaf(t, srvCert, srvKey, ca.leaf(t, "localhost", true))
	aliceCert, aliceKey := filepath.Join(dir, "alice.crt"), filepath.Join(dir, "alice.key")
	writeLeaf(t, aliceCert, aliceKey, ca.leaf(t, "alice", false))
	evilCert, evilKey := filepath.Join(dir, "evil.crt"), filepath.Join(dir, "evil.key")
	writeLeaf(t, evilCert, evilKey, other.leaf(t, "alice", false))
	caFile := filepath.Join(dir, "ca.crt")

	s := pgtest.Start(t, pgtest.Config{CertFile: srvCert, KeyFile: srvKey, CAFile: caFile})
	s.CreateRole(t, "alice")

	fi, err := os.Stat(filepath.Join(s.DataDir(), "server.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	ctx := context.Background()
	connect := func(host, cert, key string) error {
		dsn := fmt.Sprintf("host=%s port=%d user=alice dbname=postgres sslmode=verify-full sslrootcert=%s sslcert=%s sslkey=%s",
			host, s.Port(), caFile, cert, key)
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		var u string
		if err := c.QueryRow(ctx, "SELECT current_user").Scan(&u); err != nil {
			return err
		}
		if u != "alice" {
			return fmt.Errorf("current_user %q", u)
		}
		return nil
	}
	require.NoError(t, connect("localhost", aliceCert, aliceKey))
	require.NoError(t, connect("127.0.0.1", aliceCert, aliceKey))
	err = connect("127.0.0.1", evilCert, evilKey)
	require.Error(t, err, "a cert from another CA must be refused")

	// Without a client cert the hostssl cert rule refuses.
	_, err = pgx.Connect(ctx, fmt.Sprintf("host=127.0.0.1 port=%d user=alice dbname=postgres sslmode=verify-full sslrootcert=%s", s.Port(), caFile))
	require.Error(t, err)
	// Plain TCP has no matching rule.
	_, err = pgx.Connect(ctx, fmt.Sprintf("host=127.0.0.1 port=%d user=alice dbname=postgres sslmode=disable", s.Port()))
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "pg_hba.conf") || strings.Contains(err.Error(), "28000"), err.Error())
}

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

type leaf struct {
	der []byte
	key *ecdsa.PrivateKey
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pgtest CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key}
}

func (ca *testCA) leaf(t *testing.T, cn string, server bool) leaf {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	return leaf{der: der, key: key}
}

func (ca *testCA) write(t *testing.T, dir, name string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".crt"),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}), 0o644))
}

func writeLeaf(t *testing.T, certPath, keyPath string, l leaf) {
	t.Helper()
	require.NoError(t, os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.der}), 0o644))
	kder, err := x509.MarshalPKCS8PrivateKey(l.key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600))
}

// TestRestart: a restart ends every backend with FATAL 57P01 and the
// server answers again on the same port, with the data kept.
func TestRestart(t *testing.T) {
	t.Parallel()
	s := pgtest.Start(t, pgtest.Config{})
	s.Exec(t, "CREATE TABLE kept (x int)")
	ctx := context.Background()
	// Over TCP, as a client elsewhere (over the unix socket the next
	// write fails first, with EPIPE).
	c, err := pgx.Connect(ctx, fmt.Sprintf("host=%s port=%d user=%s dbname=postgres sslmode=disable", s.Host(), s.Port(), pgtest.Superuser))
	require.NoError(t, err)
	defer c.Close(ctx)
	port := s.Port()
	require.NoError(t, s.Restart(ctx))
	require.Equal(t, port, s.Port())
	_, err = c.Exec(ctx, "SELECT 1")
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "57P01", pgErr.Code)
	require.NoError(t, s.ExecContext(ctx, "SELECT * FROM kept"))
}
