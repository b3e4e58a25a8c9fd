package gateway_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

// foreignCert makes a cert for name with route db signed by a CA that is
// not the cluster's.
func (h *harness) foreignCert(name, route string) user {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(h.t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "evil CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	require.NoError(h.t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(h.t, err)
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(h.t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name},
		URIs:      []*url.URL{{Scheme: "tollgate", Opaque: "db:" + route}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, k.Public(), caKey)
	require.NoError(h.t, err)
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(h.t, err)
	dir := filepath.Join(h.dir, "users", "foreign-"+name)
	require.NoError(h.t, os.MkdirAll(dir, 0o700))
	u := user{name: name, certFile: filepath.Join(dir, "db.crt"), keyFile: filepath.Join(dir, "db.key")}
	require.NoError(h.t, os.WriteFile(u.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(h.t, os.WriteFile(u.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600))
	return u
}

func TestDenials(t *testing.T) {
	h := newHarness(t)
	_, err := h.svc.Roles().Create(h.ctx, h.admin, schemas.Role{Name: "devonly", Spec: schemas.RoleSpec{Allow: schemas.RoleConditions{
		DBLabels: map[string][]string{"env": {"dev"}}, DBUsers: []string{"{{internal.db_users}}"}, DBNames: []string{"*"}}}})
	require.NoError(t, err)
	_, err = h.svc.Roles().Create(h.ctx, h.admin, schemas.Role{Name: "nobob", Spec: schemas.RoleSpec{Deny: schemas.RoleConditions{
		DBUsers: []string{"bob"}}}})
	require.NoError(t, err)
	h.addUser("alice", []string{"access"}, []string{"alice"})
	h.addUser("bob", []string{"access", "nobob"}, []string{"bob"})
	h.addUser("carol", []string{"devonly"}, []string{"carol"})
	h.addUser("erin", []string{"access"}, []string{"alice"})
	h.addUser("pat", []string{"access"}, []string{"pwuser"})
	_, err = h.svc.Locks().Add(h.ctx, h.admin, wire.Lock{LockCreated: schemas.LockCreated{Target: schemas.LockTarget{User: "erin"}, Message: "incident 42"}})
	require.NoError(t, err)

	alice := h.dbCert("alice", "roach", time.Hour)
	expiring := h.dbCert("alice", "roach", 2*time.Second)

	cases := []struct {
		name, who, dbUser, code, says string
		cert                          func() user
		plaintext                     bool
	}{
		{name: "wrong db user", who: "alice", dbUser: "bob", code: schemas.RejectDenied, says: `db user "bob" is not allowed on database roach`,
			cert: func() user { return alice }},
		{name: "wrong labels", who: "carol", dbUser: "carol", code: schemas.RejectDenied, says: "no allow db_labels match its labels env=prod",
			cert: func() user { return h.dbCert("carol", "prod", time.Hour) }},
		{name: "deny rule", who: "bob", dbUser: "bob", code: schemas.RejectDenied, says: `role nobob denies db user "bob"`,
			cert: func() user { return h.dbCert("bob", "roach", time.Hour) }},
		{name: "locked user", who: "erin", dbUser: "alice", code: schemas.RejectLocked, says: "incident 42",
			cert: func() user { return h.dbCert("erin", "roach", time.Hour) }},
		{name: "expired cert", who: "alice", dbUser: "alice", code: schemas.RejectCertExpired, says: "expired",
			cert: func() user {
				require.Eventually(t, func() bool { return time.Now().After(expiring.notAfter) }, 30*time.Second, 50*time.Millisecond)
				return expiring
			}},
		{name: "cert from another CA", who: "mallory", dbUser: "alice", code: schemas.RejectBadCert, says: "not issued by this Tollgate cluster",
			cert: func() user { return h.foreignCert("mallory", "roach") }},
		{name: "plaintext", who: "", dbUser: "alice", code: schemas.RejectPlaintext, says: "requires TLS", plaintext: true,
			cert: func() user { return alice }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.rejections(tc.who))
			marker := "should not run " + strings.ReplaceAll(tc.name, " ", "_")
			u := tc.cert()
			conn := h.connString(u, tc.dbUser, "postgres")
			if tc.plaintext {
				conn = strings.Replace(conn, "sslmode=verify-full", "sslmode=disable", 1)
			}
			out, err := execPsql(conn, "-c", "select '"+marker+"'")
			require.Error(t, err, out)
			require.Contains(t, out, tc.says)
			var got []schemas.SessionRejected
			require.Eventually(t, func() bool {
				got = h.rejections(tc.who)
				return len(got) > before
			}, 20*time.Second, 50*time.Millisecond)
			require.Equal(t, tc.code, got[len(got)-1].Code, got[len(got)-1].Reason)
			require.NotContains(t, h.pg.LogContents(), marker)
		})
	}

	t.Run("database asking for a password", func(t *testing.T) {
		pat := h.dbCert("pat", "roach", time.Hour)
		out, err := execPsql(h.connString(pat, "pwuser", "postgres"), "-c", "select 'should not run pw'")
		require.Error(t, err, out)
		require.Contains(t, out, "certificate authentication")
		require.NotContains(t, h.pg.LogContents(), "should not run pw")
	})

	t.Run("allowed still works", func(t *testing.T) {
		out, err := execPsql(h.connString(alice, "alice", "postgres"), "-c", "select 'allowed ran'")
		require.NoError(t, err, out)
		require.Contains(t, out, "allowed ran")
	})
}
