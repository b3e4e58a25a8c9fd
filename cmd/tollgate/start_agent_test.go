package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/pgtest"
	"github.com/tollgate-db/tollgate/internal/profile"
	"github.com/tollgate-db/tollgate/schemas"
)

// daemon is `tollgate start` running in-process.
type daemon struct {
	cancel context.CancelFunc
	done   chan int
	stderr *lockedBuffer
}

func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemon{cancel: cancel, done: make(chan int, 1), stderr: &lockedBuffer{}}
	go func() {
		d.done <- run(ctx, append([]string{"start"}, args...), strings.NewReader(""), &lockedBuffer{}, d.stderr)
	}()
	t.Cleanup(func() { d.stop(t) })
	return d
}

func (d *daemon) stop(t *testing.T) {
	if d.cancel == nil {
		return
	}
	d.cancel()
	d.cancel = nil
	select {
	case code := <-d.done:
		require.Equal(t, 0, code, d.stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatal("tollgate start did not stop within 60s")
	}
}

// adminClient waits for the API and returns a client with the local admin
// identity.
func adminClient(t *testing.T, d *daemon, dir string) *client.Client {
	t.Helper()
	var c *client.Client
	require.Eventually(t, func() bool {
		select {
		case code := <-d.done:
			t.Fatalf("tollgate start exited early with %d: %s", code, d.stderr.String())
		default:
		}
		p, err := profile.Load(control.AdminDir(dir))
		if err != nil {
			return false
		}
		if c, err = client.FromProfile(p, ""); err != nil {
			return false
		}
		if _, err := c.Status(context.Background()); err != nil {
			c.Close()
			return false
		}
		return true
	}, 60*time.Second, 50*time.Millisecond)
	t.Cleanup(c.Close)
	return c
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

func keyPair(t *testing.T) (keyPEM, pubPEM string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	pub, err := x509.MarshalPKIXPublicKey(k.Public())
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
}

// TestStartSingleNodeAgent: `tollgate start --config` with a db_service
// section runs control and the agent in one process; psql reaches a real
// PostgreSQL (set up with `auth sign --format=cockroachdb` files) through
// the agent, and the session is audited. The config file holds the
// daemon, agent and export sections together.
func TestStartSingleNodeAgent(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("psql"); err != nil {
		t.Fatal("psql not found: apt-get install -y postgresql-client")
	}
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	controlAddr, agentAddr, metricsAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	// A single node needs no NATS listener: its agent is in process.
	base := fmt.Sprintf("data_dir: %s\ncluster_name: single\ncontrol:\n  listen_addr: %s\nnats:\n  listen_addr: none\n", data, controlAddr)
	cfg1 := filepath.Join(dir, "control.yaml")
	require.NoError(t, os.WriteFile(cfg1, []byte(base), 0o600))

	// First start: the cluster; the database's certs and a user.
	d := startDaemon(t, "--config", cfg1, "--metrics-addr", "none")
	admin := adminClient(t, d, data)
	signed, err := admin.Sign(ctx, wire.SignRequest{Format: "cockroachdb", Hosts: []string{"127.0.0.1", "localhost"}, TTL: 24 * time.Hour})
	require.NoError(t, err)
	certs := filepath.Join(dir, "certs")
	require.NoError(t, os.MkdirAll(certs, 0o700))
	_, err = pki.WriteCockroachDB(certs, signed.Output(), false)
	require.NoError(t, err)
	inv, err := admin.UsersAdd(ctx, schemas.User{Name: "alice", Roles: []string{"access"},
		Traits: map[string][]string{"db_users": {"alice"}, "db_names": {"*"}}})
	require.NoError(t, err)
	p, err := profile.Load(control.AdminDir(data))
	require.NoError(t, err)
	anon, err := client.Anonymous(controlAddr, p.HostCAPEM)
	require.NoError(t, err)
	defer anon.Close()
	ukey, upub := keyPair(t)
	ucert, err := anon.Signup(ctx, wire.Login{Invite: inv.Invite, Password: "correct horse battery staple", PublicKeyPEM: upub})
	require.NoError(t, err)
	pair, err := tls.X509KeyPair([]byte(ucert.CertPEM), []byte(ukey))
	require.NoError(t, err)
	pool, err := client.PoolOf(p.HostCAPEM)
	require.NoError(t, err)
	alice := client.New(controlAddr, &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}})
	defer alice.Close()
	d.stop(t)

	pg := pgtest.Start(t, pgtest.Config{
		CertFile: filepath.Join(certs, "node.crt"), KeyFile: filepath.Join(certs, "node.key"), CAFile: filepath.Join(certs, "ca-client.crt"),
		HBA:      []string{"hostssl all all 127.0.0.1/32 cert"},
		Settings: map[string]string{"log_statement": "all", "log_line_prefix": "[%u] "},
	})
	pg.CreateRole(t, "alice")

	// Second start: the same file plus the agent and an export sink.
	export := filepath.Join(dir, "audit.jsonl")
	cfg2 := filepath.Join(dir, "tollgate.yaml")
	require.NoError(t, os.WriteFile(cfg2, []byte(base+fmt.Sprintf(`tollgate:
  data_dir: %s
db_service:
  listen_addr: %s
  databases:
  - name: roach
    protocol: cockroachdb
    uri: %s
    labels:
      env: dev
    tls:
      ca_cert_file: %s
export:
  sinks:
  - name: audit-file
    type: file
    file:
      path: %s
`, data, agentAddr, pg.Addr(), filepath.Join(certs, "ca.crt"), export)), 0o600))
	d = startDaemon(t, "--config", cfg2, "--metrics-addr", metricsAddr)
	adminClient(t, d, data)
	// The agent registered roach: alice gets her database cert for it.
	dkey, dpub := keyPair(t)
	var dbc wire.Cert
	require.Eventually(t, func() bool {
		dbc, err = alice.DBCert(ctx, wire.DBCertRequest{Database: "roach", PublicKeyPEM: dpub})
		return err == nil
	}, 60*time.Second, 100*time.Millisecond, "db cert: %v", err)
	userDir := filepath.Join(dir, "alice")
	require.NoError(t, os.MkdirAll(userDir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(userDir, "db.crt"), []byte(dbc.CertPEM), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(userDir, "db.key"), []byte(dkey), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(userDir, "host-ca.pem"), p.HostCAPEM, 0o600))
	host, port, _ := net.SplitHostPort(agentAddr)
	conn := fmt.Sprintf("host=%s port=%s user=alice dbname=postgres sslmode=verify-full sslrootcert=%s sslcert=%s sslkey=%s",
		host, port, filepath.Join(userDir, "host-ca.pem"), filepath.Join(userDir, "db.crt"), filepath.Join(userDir, "db.key"))
	var out []byte
	require.Eventually(t, func() bool {
		cmd := exec.Command("psql", "-X", conn, "-c", "select 'through the single node agent' as greeting")
		cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=20")
		out, err = cmd.CombinedOutput()
		return err == nil
	}, 60*time.Second, 200*time.Millisecond, "psql through the agent: %s\n%s", out, d.stderr.String())
	require.Contains(t, string(out), "through the single node agent")
	require.Contains(t, pg.LogContents(), "[alice] LOG:  statement: select 'through the single node agent'")

	// The query reached the export sink, and the agent's health endpoint
	// answers.
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(export)
		return err == nil && strings.Contains(string(b), "through the single node agent")
	}, 30*time.Second, 100*time.Millisecond)
	resp, err := http.Get("http://" + metricsAddr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// The local agent's join is recorded like any other.
	ev, err := admin.Events(ctx, wire.EventsQuery{Stream: "control", Type: schemas.TypeAgentJoined})
	require.NoError(t, err)
	require.Len(t, ev.Events, 1)
	d.stop(t)
}
