package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseGood(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/good/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			_, err := Load(f)
			require.NoError(t, err)
		})
	}
}

func TestParseFullValues(t *testing.T) {
	t.Parallel()
	f, err := Load("testdata/good/full.yaml")
	require.NoError(t, err)
	require.Equal(t, "control.example.com:7080", f.Tollgate.ProxyServer)
	require.Equal(t, "/var/lib/tollgate", f.Tollgate.DataDir)
	s := f.DBService
	require.True(t, s.IsEnabled())
	require.Equal(t, AuditAsync, s.AuditMode)
	require.Equal(t, SpoolSyncAlways, s.SpoolSync)
	require.Equal(t, ByteSize(2<<30), s.SpoolMaxBytes)
	require.Equal(t, ByteSize(16<<20), s.MaxMessageSize)
	require.Equal(t, 5*time.Second, s.HandshakeTimeout)
	require.Equal(t, 3*time.Second, s.CheckpointInterval)
	require.Equal(t, 30*time.Minute, s.IdleTimeout)
	require.Equal(t, 200, s.MaxConnections)
	require.Len(t, s.Databases, 2)
	require.Equal(t, DatabaseTLS{Mode: TLSVerifyCA, CACertFile: "/etc/tollgate/roach-ca.crt", ServerName: "node"}, s.Databases[0].TLS)
	require.Equal(t, TLSVerifyFull, s.Databases[1].TLS.Mode, "tls.mode defaults to verify-full")
	require.Equal(t, map[string]string{"env": "dev"}, s.Databases[0].Labels)
	require.Equal(t, StringList{"dev", "staging"}, s.Resources[0].Labels["env"])
	require.Equal(t, StringList{"*"}, s.Resources[1].Labels["*"])
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	for _, f := range []File{Default(), mustParse(t, "")} {
		s := f.DBService
		require.True(t, s.IsEnabled())
		require.Equal(t, "0.0.0.0:7432", s.ListenAddr)
		require.Equal(t, AuditStrict, s.AuditMode)
		require.Equal(t, SpoolSyncInterval, s.SpoolSync)
		require.Equal(t, ByteSize(64<<20), s.MaxMessageSize)
		require.Equal(t, 10*time.Second, s.HandshakeTimeout)
		require.Equal(t, DefaultCheckpointInterval, s.CheckpointInterval)
		require.Equal(t, time.Duration(0), s.IdleTimeout)
		require.Equal(t, DefaultMaxConnections, s.MaxConnections)
		require.Equal(t, ByteSize(1<<30), s.SpoolMaxBytes)
	}
	f := mustParse(t, "db_service:\n  enabled: false\n")
	require.False(t, f.DBService.IsEnabled())
}

func mustParse(t *testing.T, y string) File {
	t.Helper()
	f, err := Parse([]byte(y))
	require.NoError(t, err)
	return f
}

func TestParseBad(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"protocol.yaml":              `db_service.databases[1].protocol (line 13): must be cockroachdb or postgres, got "mysql"`,
		"unknown_field.yaml":         `db_service.databases[0].protocl (line 4): unknown field; known fields here: description, labels, name, protocol, tls, uri`,
		"unknown_section_field.yaml": `tollgate.auth_tokn (line 2): unknown field`,
		"audit_mode.yaml":            `db_service.audit_mode (line 2): must be strict or async, got "sometimes"`,
		"spool_sync.yaml":            `db_service.spool_sync (line 2): must be interval or always, got "sometimes"`,
		"spool_max_bytes.yaml":       `db_service.spool_max_bytes (line 2): must be at least 256KiB, got 65536 bytes`,
		"listen_addr.yaml":           `db_service.listen_addr (line 2): "7432": use HOST:PORT`,
		"uri_missing.yaml":           `db_service.databases[0].uri (line 3): required`,
		"duplicate_name.yaml":        `db_service.databases[1].name (line 4): "roach" is already used by db_service.databases[0]`,
		"proxy_server.yaml":          `tollgate.proxy_server (line 2): "control-b.example.com": use HOST:PORT`,
		"proxy_server_empty.yaml":    `tollgate.proxy_server (line 2): "control-a.example.com:7080,,control-b.example.com:7080": an entry is empty`,
		"ca_pin.yaml":                `tollgate.ca_pin (line 2): "md5:abc": must be sha256:<64 hex digits>`,
		"tls_mode.yaml":              `db_service.databases[0].tls.mode (line 7): must be verify-full or verify-ca, got "disable"`,
		"max_message_size.yaml":      `db_service.max_message_size (line 2): must be between 8KiB and 1GiB`,
		"handshake_timeout.yaml":     `line 2: cannot unmarshal !!str ` + "`soon`",
		"checkpoint_interval.yaml":   `db_service.checkpoint_interval (line 2): must be between 0s and 5m0s, got 1h0m0s`,
		"resources.yaml":             `db_service.resources[0].labels (line 3): required`,
		"name.yaml":                  `db_service.databases[0].name (line 3): "my db": use 1-63 letters`,
		"not_mapping.yaml":           `line 1: the config must be a mapping`,
		"audit_leaf_url.yaml":        `db_service.audit_leaf.hub_url (line 3): must be a URL like tls://control.example.com:7423`,
		"audit_leaf_no_url.yaml":     `db_service.audit_leaf.hub_url (line 2): is required with hub_domain or max_bytes`,
		"audit_leaf_domain.yaml":     `db_service.audit_leaf.hub_domain (line 4): must be letters, digits`,
		"audit_leaf_max_bytes.yaml":  `db_service.audit_leaf.max_bytes (line 4): must be at least 256KiB, got 1024 bytes`,
	}
	files, err := filepath.Glob("testdata/bad/*.yaml")
	require.NoError(t, err)
	require.Len(t, files, len(cases), "every bad file has a case and every case a file")
	for _, f := range files {
		name := filepath.Base(f)
		want, ok := cases[name]
		require.True(t, ok, "no expected error for %s", name)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(f)
			require.Error(t, err)
			require.ErrorIs(t, err, ErrInvalid)
			require.Contains(t, err.Error(), want)
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	f := Default()
	f.DBService.AuditMode = "x"
	f.DBService.Databases = []Database{{Name: "a", Protocol: "mysql", URI: "h:1"}}
	err := f.Validate()
	require.ErrorIs(t, err, ErrInvalid)
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	require.Contains(t, err.Error(), "db_service.audit_mode: must be strict or async")
	require.Contains(t, err.Error(), "db_service.databases[0].protocol: must be cockroachdb or postgres")
}

func TestByteSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]ByteSize{"4096": 4096, "64MiB": 64 << 20, "512 KiB": 512 << 10, "1GiB": 1 << 30, "10MB": 10e6, "7B": 7} {
		got, err := ParseByteSize(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "-1", "1TiB", "abc", "1.5MiB"} {
		_, err := ParseByteSize(in)
		require.Error(t, err, in)
	}
}

func TestJoinToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(file, []byte("  abc123\n"), 0o600))
	got, err := Join{AuthToken: file}.Token()
	require.NoError(t, err)
	require.Equal(t, "abc123", got)
	got, err = Join{AuthToken: "deadbeef"}.Token()
	require.NoError(t, err)
	require.Equal(t, "deadbeef", got)
	missing := filepath.Join(dir, "missing")
	_, err = Join{AuthToken: missing}.Token()
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "token file "+missing+" not found", "a missing path is not taken as the token value")
	require.ErrorContains(t, err, DefaultTokenPath)
	_, err = Join{AuthToken: dir}.Token()
	require.ErrorContains(t, err, dir+" is not a file")
	require.NoError(t, os.WriteFile(file, []byte("\n"), 0o600))
	_, err = Join{AuthToken: file}.Token()
	require.ErrorContains(t, err, "token file "+file+" is empty")
	_, err = Join{}.Token()
	require.True(t, errors.Is(err, ErrInvalid))
}

func TestProxyServerList(t *testing.T) {
	t.Parallel()
	f, err := Load("testdata/good/proxies.yaml")
	require.NoError(t, err)
	require.Equal(t, "control-a.example.com:7080, control-b.example.com:7080", f.Tollgate.ProxyServer)
}
