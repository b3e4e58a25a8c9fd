package gateway_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

// dbClientCertFiles gets a db_client cert for alice from control as the
// agent would, and writes it with its key for a direct connection.
func (h *harness) dbClientCertFiles(name string) (certFile, keyFile string) {
	h.t.Helper()
	key, pub := newKeyPEM(h.t)
	c, err := h.svc.Certs().DBClient(h.ctx, control.Caller{Kind: control.CallerHost, Name: h.gw.AgentID()},
		wire.DBClientCertRequest{DBUser: "alice", Database: "roach", ForUser: "alice", NotAfter: time.Now().Add(30 * time.Minute), PublicKeyPEM: pub})
	require.NoError(h.t, err)
	dir := filepath.Join(h.dir, "direct-"+name)
	require.NoError(h.t, os.MkdirAll(dir, 0o700))
	certFile, keyFile = filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
	require.NoError(h.t, os.WriteFile(certFile, []byte(c.CertPEM), 0o600))
	require.NoError(h.t, os.WriteFile(keyFile, []byte(key), 0o600))
	return certFile, keyFile
}

// direct connects to PostgreSQL itself (not through the agent) with a
// db_client cert.
func (h *harness) direct(certFile, keyFile string) error {
	conn := "host=127.0.0.1 port=" + strings.TrimPrefix(h.pg.Addr(), "127.0.0.1:") + " user=alice dbname=postgres sslmode=verify-ca" +
		" sslrootcert=" + filepath.Join(h.dir, "certs", "ca.crt") + " sslcert=" + certFile + " sslkey=" + keyFile
	_, err := execPsql(conn, "-c", "select 1")
	return err
}

func (h *harness) dbClientCertsIssued() int {
	n := 0
	for _, ev := range h.events(schemas.TypeCertIssued) {
		if decode[schemas.CertIssued](h.t, ev).Kind == schemas.CertKindDBClient {
			n++
		}
	}
	return n
}

// TestDBClientCertsFollowRotation: the agent caches the db_client cert of
// a session; a db_client CA rotation then runs to completion (the database
// trusting old and new CA from init on, as the guide says, and only the
// new one once it completed). The next session through the agent must not
// present the cached cert of the old key: PostgreSQL, which now refuses
// it (checked with a direct connection), accepts the session, whose cert
// control issued afresh from the new key.
func TestDBClientCertsFollowRotation(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", []string{"access"}, []string{"alice"})
	alice := h.dbCert("alice", "roach", time.Hour)
	session := func(label string) {
		t.Helper()
		out, err := h.psql(alice, "alice", "postgres", "-c", "select '"+label+"' as x").CombinedOutput()
		require.NoError(t, err, string(out))
		require.Contains(t, string(out), label)
	}
	session("before rotation") // the agent caches a db_client cert from the old key
	oldCert, oldKey := h.dbClientCertFiles("old")
	require.NoError(t, h.direct(oldCert, oldKey))
	issued := h.dbClientCertsIssued()

	step := func(action string) wire.Rotation {
		t.Helper()
		r, err := h.svc.CAs().Rotate(h.ctx, h.admin, wire.RotateRequest{Type: schemas.CADBClient, Action: action})
		require.NoError(t, err)
		return r
	}
	r := step(wire.RotateStart)
	require.Len(t, r.Trusted, 2)
	both := filepath.Join(h.dir, "db-client-both.pem")
	require.NoError(t, os.WriteFile(both, []byte(strings.Join(r.Trusted, "")), 0o644))
	require.NoError(t, h.pg.SetCAFile(h.ctx, both)) // init: the database trusts both CAs
	step(wire.RotateNext)                           // update_clients: client certs from the new key
	step(wire.RotateNext)                           // update_servers
	r = step(wire.RotateNext)                       // completed: only the new key
	require.Equal(t, schemas.PhaseStandby, r.Phase)
	require.Len(t, r.Trusted, 1)

	// The database drops the old CA.
	onlyNew := filepath.Join(h.dir, "db-client-new.pem")
	require.NoError(t, os.WriteFile(onlyNew, []byte(r.Trusted[0]), 0o644))
	require.NoError(t, h.pg.SetCAFile(h.ctx, onlyNew))
	newCert, newKey := h.dbClientCertFiles("new")
	require.Eventually(t, func() bool { return h.direct(oldCert, oldKey) != nil && h.direct(newCert, newKey) == nil },
		30*time.Second, 50*time.Millisecond, "PostgreSQL reloaded root.crt: old-key certs refused, new-key certs accepted")

	session("after rotation")
	require.Greater(t, h.dbClientCertsIssued(), issued+1, "the agent got a db_client cert from the new key (besides the direct one)")
}
