package pki_test

// Integration test (runs by default; select with -run Integration): a real
// PostgreSQL configured from WriteCockroachDB output.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/internal/pgtest"
	"github.com/tollgate-db/tollgate/schemas"
)

func writeClient(t *testing.T, dir, name string, iss *pki.Issuer, req pki.Request) (certFile, keyFile string) {
	t.Helper()
	certPEM, keyPEM, _, err := iss.Issue(context.Background(), req)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	require.NoError(t, os.WriteFile(certFile, certPEM, 0o644))
	require.NoError(t, os.WriteFile(keyFile, keyPEM, 0o600))
	return certFile, keyFile
}

func TestIntegrationCockroachDBOutputOnPostgreSQL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	dir := t.TempDir()

	db := newIssuerAt(t, schemas.CADB, now)
	dbc := newIssuerAt(t, schemas.CADBClient, now)
	user := newIssuerAt(t, schemas.CAUser, now)
	nodeCert, nodeKey, _, err := db.Issue(ctx, pki.Request{Kind: schemas.CertKindDBServer, CommonName: "node",
		Hosts: []string{"roach", "localhost", "127.0.0.1"}, ClientAuth: true, Now: now, TTL: 2190 * time.Hour})
	require.NoError(t, err)
	certs := filepath.Join(dir, "certs")
	_, err = pki.WriteCockroachDB(certs, pki.SignOutput{CertPEM: nodeCert, KeyPEM: nodeKey,
		DBCA: pki.Bundle(db.CertPEM()), ClientCA: pki.Bundle(dbc.CertPEM())}, false)
	require.NoError(t, err)

	srv := pgtest.Start(t, pgtest.Config{
		CertFile: filepath.Join(certs, "node.crt"),
		KeyFile:  filepath.Join(certs, "node.key"),
		CAFile:   filepath.Join(certs, "ca-client.crt"),
		HBA:      []string{"hostssl all all 127.0.0.1/32 cert", "hostssl all all ::1/128 cert"},
	})
	srv.CreateRole(t, "alice")

	until := now.Add(time.Hour)
	aliceCert, aliceKey := writeClient(t, dir, "alice", dbc, pki.Request{Kind: schemas.CertKindDBClient, CommonName: "alice", Now: now, NotAfter: until})
	ghostCert, ghostKey := writeClient(t, dir, "ghost", dbc, pki.Request{Kind: schemas.CertKindDBClient, CommonName: "ghost", Now: now, NotAfter: until})
	userCert, userKey := writeClient(t, dir, "user-alice", user, pki.Request{Kind: schemas.CertKindUser, CommonName: "alice", Now: now, TTL: time.Hour})
	caCrt := filepath.Join(certs, "ca.crt")

	connect := func(host, dbUser, rootCA, cert, key string) (string, error) {
		dsn := fmt.Sprintf("host=%s port=%d user=%s dbname=postgres sslmode=verify-full sslrootcert=%s sslcert=%s sslkey=%s connect_timeout=20",
			host, srv.Port(), dbUser, rootCA, cert, key)
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return "", err
		}
		defer c.Close(ctx)
		var who string
		err = c.QueryRow(ctx, "SELECT current_user || ' ' || (SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid())").Scan(&who)
		return who, err
	}

	for _, host := range []string{"localhost", "127.0.0.1"} {
		who, err := connect(host, "alice", caCrt, aliceCert, aliceKey)
		require.NoError(t, err, host)
		require.Equal(t, "alice true", who, host)
	}

	// Wrong trust root on the client side: server verification must fail.
	_, err = connect("127.0.0.1", "alice", filepath.Join(certs, "ca-client.crt"), aliceCert, aliceKey)
	require.Error(t, err)
	require.Contains(t, err.Error(), "certificate")

	// A user-CA cert is not trusted by the database.
	_, err = connect("127.0.0.1", "alice", caCrt, userCert, userKey)
	// (Go's TLS client sends no cert the server's CA list does not name;
	// libpq would send it and fail verification. Either way: refused.)
	require.Error(t, err)
	log := srv.LogContents()
	require.True(t, strings.Contains(log, "connection requires a valid client certificate") ||
		strings.Contains(log, "certificate verify failed"), log)

	// A db_client cert whose CN has no role is refused by authentication.
	_, err = connect("127.0.0.1", "ghost", caCrt, ghostCert, ghostKey)
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "want a server error, got %v", err)
	require.Equal(t, "28000", pgErr.Code, pgErr.Message)

	// A valid cert for one role does not log in as another.
	_, err = connect("127.0.0.1", "postgres", caCrt, aliceCert, aliceKey)
	require.True(t, errors.As(err, &pgErr), "want a server error, got %v", err)
	require.Equal(t, "28000", pgErr.Code)

	// The real psql, verify-full against ca.crt.
	psql, err := exec.LookPath("psql")
	require.NoError(t, err, "psql not found: apt-get install -y postgresql-client")
	cmd := exec.Command(psql, "-X", "-At", "-c", "SELECT current_user",
		fmt.Sprintf("host=localhost port=%d user=alice dbname=postgres sslmode=verify-full sslrootcert=%s sslcert=%s sslkey=%s",
			srv.Port(), caCrt, aliceCert, aliceKey))
	cmd.Env = []string{"HOME=" + dir, "PATH=/usr/bin:/bin", "LC_ALL=C"}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Equal(t, "alice", strings.TrimSpace(string(out)))

	// psql does present a user-CA cert; the server must reject it.
	cmd = exec.Command(psql, "-X", "-At", "-c", "SELECT current_user",
		fmt.Sprintf("host=127.0.0.1 port=%d user=alice dbname=postgres sslmode=verify-full sslrootcert=%s sslcert=%s sslkey=%s",
			srv.Port(), caCrt, userCert, userKey))
	cmd.Env = []string{"HOME=" + dir, "PATH=/usr/bin:/bin", "LC_ALL=C"}
	out, err = cmd.CombinedOutput()
	require.Error(t, err, string(out))
	require.NotContains(t, string(out), "alice\n")
	// The backend logs the refusal as it ends, which may be after psql
	// has already exited.
	require.Eventually(t, func() bool { return strings.Contains(srv.LogContents(), "certificate verify failed") },
		10*time.Second, 50*time.Millisecond, "the server logged why it refused the cert:\n%s", srv.LogContents())
}
