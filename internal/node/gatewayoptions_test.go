package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	agentconfig "github.com/tollgate-db/tollgate/agent/config"
	"github.com/tollgate-db/tollgate/agent/gateway"
	"github.com/tollgate-db/tollgate/agent/relay"
	"github.com/tollgate-db/tollgate/agent/upstream"
	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/schemas"
)

// writeCA writes a CA cert (PEM) to dir/name and returns its path.
func writeCA(t *testing.T, dir, name string) string {
	t.Helper()
	pem, _, err := pki.NewCA(schemas.CADB, schemas.KeyAlgECDSAP256, "test", time.Now(), time.Hour)
	require.NoError(t, err)
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, pem, 0o600))
	return path
}

// TestGatewayOptionsFromYAML: every db_service field reaches the
// gateway's options as a plain value, the ca_cert_file read into a pool.
func TestGatewayOptionsFromYAML(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := writeCA(t, dir, "roach-ca.crt")
	f, err := agentconfig.Parse([]byte(fmt.Sprintf(`tollgate:
  auth_token: 0123456789abcdef
db_service:
  listen_addr: 0.0.0.0:7432
  public_addr: agent.example.com:7432
  metrics_addr: none
  audit_mode: async
  max_message_size: 16MiB
  handshake_timeout: 5s
  checkpoint_interval: 3s
  idle_timeout: 30m
  max_connections: 200
  spool_dir: /var/lib/tollgate/spool
  spool_sync: always
  spool_max_bytes: 2GiB
  databases:
  - name: roach
    description: CockroachDB node 1
    protocol: cockroachdb
    uri: roach.example.com:26257
    labels: {env: dev}
    tls: {mode: verify-ca, ca_cert_file: %s, server_name: node}
  - name: pg
    protocol: postgres
    uri: 10.0.0.5:5432
  resources:
  - labels: {env: [dev, staging]}
`, ca)))
	require.NoError(t, err)
	o, err := gatewayOptions(f, "/data")
	require.NoError(t, err)
	require.Equal(t, "/data", o.DataDir)
	tok, err := o.JoinToken()
	require.NoError(t, err)
	require.Equal(t, "0123456789abcdef", tok)
	require.Equal(t, "0.0.0.0:7432", o.ListenAddr)
	require.Equal(t, gateway.NoListener, o.MetricsAddr, "metrics_addr none: no listener")
	require.Equal(t, 5*time.Second, o.HandshakeTimeout)
	require.Equal(t, 3*time.Second, o.CheckpointInterval)
	require.Equal(t, 200, o.MaxConnections)
	require.Equal(t, "/var/lib/tollgate/spool", o.SpoolDir)
	require.True(t, o.SpoolSyncEveryAppend)
	require.Equal(t, int64(2<<30), o.SpoolMaxBytes)
	require.Equal(t, relay.Async, o.AuditMode)
	require.Equal(t, 16<<20, o.MaxMessageSize)
	require.Equal(t, 30*time.Minute, o.IdleTimeout)
	require.Equal(t, "agent.example.com:7432", o.PublicAddr)
	require.Len(t, o.Databases, 2)
	roach := o.Databases[0]
	require.Equal(t, "roach", roach.Name)
	require.Equal(t, "CockroachDB node 1", roach.Description)
	require.Equal(t, schemas.ProtocolCockroachDB, roach.Protocol)
	require.Equal(t, "roach.example.com:26257", roach.URI)
	require.Equal(t, map[string]string{"env": "dev"}, roach.Labels)
	require.Equal(t, upstream.VerifyCA, roach.TLSMode)
	require.Equal(t, "node", roach.ServerName)
	require.NotNil(t, roach.Roots, "ca_cert_file read")
	require.Equal(t, upstream.VerifyFull, o.Databases[1].TLSMode, "tls.mode defaults to verify-full")
	require.Nil(t, o.Databases[1].Roots, "no ca_cert_file: the cluster's db CA")
	require.Equal(t, []gateway.Selector{{"env": {"dev", "staging"}}}, o.Resources)
	require.NoError(t, o.Validate())
}

// TestGatewayOptionsDefaults: no auth_token is no token; strict mode.
func TestGatewayOptionsDefaults(t *testing.T) {
	t.Parallel()
	o, err := gatewayOptions(agentconfig.Default(), "")
	require.NoError(t, err)
	tok, err := o.JoinToken()
	require.NoError(t, err)
	require.Empty(t, tok)
	require.Equal(t, relay.Strict, o.AuditMode)
	require.False(t, o.SpoolSyncEveryAppend)
	require.Equal(t, agentconfig.DefaultMetricsAddr, o.MetricsAddr)
}

// TestGatewayOptionsCAFileErrors: a ca_cert_file that is missing or holds
// no certificate is an error naming the database.
func TestGatewayOptionsCAFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.crt")
	require.NoError(t, os.WriteFile(empty, []byte("no pem here\n"), 0o600))
	for file, want := range map[string]string{
		filepath.Join(dir, "missing.crt"): "database roach: ca_cert_file: ",
		empty:                             "database roach: ca_cert_file " + empty + " holds no PEM certificate",
	} {
		f := agentconfig.Default()
		f.DBService.Databases = []agentconfig.Database{{Name: "roach", Protocol: "postgres", URI: "db:5432",
			TLS: agentconfig.DatabaseTLS{CACertFile: file}}}
		_, err := gatewayOptions(f, "")
		require.ErrorContains(t, err, want)
	}
}

// TestReloaderReadsTheFileAgain: each reload reads the config file anew,
// the ca_cert_files of its databases too; a file that does not parse is an
// error naming the field and line, and nothing is replaced.
func TestReloaderReadsTheFileAgain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "tollgate.yaml")
	ca := writeCA(t, dir, "added-ca.crt")
	write := func(extra string) {
		require.NoError(t, os.WriteFile(path, []byte(`db_service:
  listen_addr: 127.0.0.1:0
  databases:
  - name: roach
    protocol: postgres
    uri: 127.0.0.1:5432
`+extra), 0o600))
	}
	write("")
	reload := reloader(path, agentconfig.Default())
	r, err := reload(context.Background())
	require.NoError(t, err)
	require.Len(t, r.Databases, 1)

	write(fmt.Sprintf(`  - name: added
    protocol: postgres
    uri: 127.0.0.1:5432
    tls:
      ca_cert_file: %s
`, ca))
	r, err = reload(context.Background())
	require.NoError(t, err)
	require.Len(t, r.Databases, 2)
	require.Equal(t, "added", r.Databases[1].Name)
	require.NotNil(t, r.Databases[1].Roots, "the ca_cert_file is read at reload")

	require.NoError(t, os.WriteFile(path, []byte("db_service:\n  audit_mode: maybe\n"), 0o600))
	_, err = reload(context.Background())
	require.ErrorContains(t, err, "db_service.audit_mode (line 2)")
}

// TestReloaderWithoutFile: with no config file, a reload reads the
// running config's ca_cert_files again.
func TestReloaderWithoutFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	f := agentconfig.Default()
	f.DBService.Databases = []agentconfig.Database{{Name: "roach", Protocol: "postgres", URI: "db:5432",
		TLS: agentconfig.DatabaseTLS{CACertFile: ca}}}
	reload := reloader("", f)
	_, err := reload(context.Background())
	require.ErrorContains(t, err, "database roach: ca_cert_file")
	writeCA(t, dir, "ca.crt")
	r, err := reload(context.Background())
	require.NoError(t, err)
	require.NotNil(t, r.Databases[0].Roots)
}
