package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tlsDir := t.TempDir()
	for _, f := range []string{"ca.pem", "c.crt", "c.key"} {
		require.NoError(t, os.WriteFile(filepath.Join(tlsDir, f), []byte("pem"), 0o600))
	}
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "empty gives defaults", yaml: "", check: func(t *testing.T, c Config) {
			require.Equal(t, DefaultDataDir, c.DataDir)
			require.Equal(t, DefaultControlListen, c.Control.ListenAddr)
			require.True(t, c.ControlEnabled())
			require.Equal(t, KeyAlgECDSA, c.KeyAlg("user"))
			require.Equal(t, "127.0.0.1:7090", c.Control.MetricsAddr, "metrics on loopback unless chosen")
			require.Equal(t, "127.0.0.1:7090", c.Agent.DBService.MetricsAddr)
		}},
		{name: "metrics addrs", yaml: "control:\n  metrics_addr: 0.0.0.0:9100\ndb_service:\n  metrics_addr: none\n", check: func(t *testing.T, c Config) {
			require.Equal(t, "0.0.0.0:9100", c.Control.MetricsAddr)
			require.Equal(t, "none", c.Agent.DBService.MetricsAddr)
		}},
		{name: "bad control metrics addr", yaml: "control:\n  metrics_addr: nope\n", wantErr: "control.metrics_addr"},
		{name: "bad agent metrics addr", yaml: "db_service:\n  metrics_addr: nope\n", wantErr: "db_service.metrics_addr (line 2)"},
		{name: "rsa for db", yaml: "control:\n  ca_key_alg:\n    db: rsa-2048\n", check: func(t *testing.T, c Config) {
			require.Equal(t, KeyAlgRSA, c.KeyAlg("db"))
			require.Equal(t, KeyAlgECDSA, c.KeyAlg("host"))
		}},
		{name: "unknown key", yaml: "data_dir: x\nbogus: 1\n", wantErr: "line 2"},
		{name: "bad listen", yaml: "control:\n  listen_addr: nope\n", wantErr: "control.listen_addr"},
		{name: "nats listener", yaml: "nats:\n  listen_addr: \":7422\"\n  advertise: tls://ctl.example.com:7422\n", check: func(t *testing.T, c Config) {
			require.Equal(t, ":7422", c.NATS.ListenAddr)
			require.Equal(t, "tls://ctl.example.com:7422", c.NATS.Advertise)
		}},
		{name: "bad nats listen", yaml: "nats:\n  listen_addr: nope\n", wantErr: "nats.listen_addr"},
		{name: "nats listen with url", yaml: "nats:\n  listen_addr: \":7422\"\n  url: nats://x:4222\n", wantErr: "remove it or nats.url"},
		{name: "bad nats advertise", yaml: "nats:\n  advertise: ctl:7422\n", wantErr: "nats.advertise"},
		{name: "leaf listener", yaml: "nats:\n  leaf_listen_addr: 0.0.0.0:7423\n", check: func(t *testing.T, c Config) {
			require.Equal(t, "tollgate", c.NATSDomain())
		}},
		{name: "leaf listener domain", yaml: "nats:\n  leaf_listen_addr: 0.0.0.0:7423\n  domain: hq\n", check: func(t *testing.T, c Config) {
			require.Equal(t, "hq", c.NATSDomain())
		}},
		{name: "no leaf listener no domain", yaml: "", check: func(t *testing.T, c Config) { require.Empty(t, c.NATSDomain()) }},
		{name: "bad leaf listen", yaml: "nats:\n  leaf_listen_addr: nope\n", wantErr: "nats.leaf_listen_addr \"nope\": use HOST:PORT"},
		{name: "leaf listen with url", yaml: "nats:\n  leaf_listen_addr: 0.0.0.0:7423\n  url: nats://x:4222\n", wantErr: "leaf agents on an external NATS are not supported yet"},
		{name: "leaf listen without nats listener", yaml: "nats:\n  leaf_listen_addr: 0.0.0.0:7423\n  listen_addr: none\n", wantErr: "needs the NATS listener"},
		{name: "bad domain", yaml: "nats:\n  domain: a.b\n", wantErr: "nats.domain \"a.b\""},
		{name: "tunnel in control's process", yaml: "db_service:\n  tunnel: true\n", wantErr: "db_service.tunnel is for an agent on another host"},
		{name: "tunnel agent", yaml: "tollgate:\n  proxy_server: ctl:7080\ndb_service:\n  tunnel: true\n", check: func(t *testing.T, c Config) {
			require.True(t, c.AgentTunnel())
		}},
		{name: "tunnel on by default with no listener", yaml: "tollgate:\n  proxy_server: ctl:7080\ndb_service:\n  listen_addr: none\n",
			check: func(t *testing.T, c Config) { require.True(t, c.AgentTunnel()) }},
		{name: "tunnel off by default with a listener", yaml: "tollgate:\n  proxy_server: ctl:7080\ndb_service:\n  listen_addr: 127.0.0.1:7432\n",
			check: func(t *testing.T, c Config) { require.False(t, c.AgentTunnel()) }},
		{name: "no listener and no tunnel", yaml: "tollgate:\n  proxy_server: ctl:7080\ndb_service:\n  listen_addr: none\n  tunnel: false\n",
			wantErr: "listen_addr (line 4): none needs the tunnel"},
		{name: "no listener in control's process", yaml: "db_service:\n  listen_addr: none\n", wantErr: "db_service.listen_addr: none is for an agent on another host"},
		{name: "audit leaf in control's process", yaml: "db_service:\n  audit_leaf:\n    hub_url: tls://ctl:7423\n", wantErr: "db_service.audit_leaf is for an agent on another host"},
		{name: "keystore default file", yaml: "", check: func(t *testing.T, c Config) {
			require.Equal(t, KeystoreFile, c.Control.Keystore)
			require.False(t, c.KeysInNATS())
		}},
		{name: "keystore nats", yaml: "control:\n  keystore: nats\n  seal_key_file: /etc/tollgate/seal.key\n", check: func(t *testing.T, c Config) {
			require.True(t, c.KeysInNATS())
		}},
		{name: "keystore nats without seal key", yaml: "control:\n  keystore: nats\n", wantErr: "control.keystore: nats needs control.seal_key_file"},
		{name: "keystore unknown", yaml: "control:\n  keystore: vault\n", wantErr: `control.keystore "vault": use file (the default) or nats`},
		{name: "negative nats replicas", yaml: "nats:\n  replicas: -1\n", wantErr: "nats.replicas -1"},
		{name: "nats client tls", yaml: "nats:\n  url: tls://a:4222,tls://b:4222\n  ca_file: $DIR/ca.pem\n  cert_file: $DIR/c.crt\n  key_file: $DIR/c.key\n",
			check: func(t *testing.T, c Config) {
				require.Equal(t, "tls://a:4222,tls://b:4222", c.NATS.URL)
				require.Equal(t, filepath.Join(tlsDir, "ca.pem"), c.NATS.CAFile)
				require.Equal(t, filepath.Join(tlsDir, "c.crt"), c.NATS.CertFile)
				require.Equal(t, filepath.Join(tlsDir, "c.key"), c.NATS.KeyFile)
			}},
		{name: "nats ca only", yaml: "nats:\n  url: tls://a:4222\n  ca_file: $DIR/ca.pem\n", check: func(t *testing.T, c Config) {
			require.Equal(t, filepath.Join(tlsDir, "ca.pem"), c.NATS.CAFile)
		}},
		{name: "nats tls without url", yaml: "nats:\n  ca_file: $DIR/ca.pem\n", wantErr: "nats.ca_file is for an external NATS: set nats.url too"},
		{name: "nats cert without key", yaml: "nats:\n  url: tls://a:4222\n  cert_file: $DIR/c.crt\n", wantErr: "nats.cert_file and nats.key_file go together"},
		{name: "nats key without cert", yaml: "nats:\n  url: tls://a:4222\n  key_file: $DIR/c.key\n", wantErr: "nats.cert_file and nats.key_file go together"},
		{name: "nats ca missing", yaml: "nats:\n  url: tls://a:4222\n  ca_file: $DIR/nope.pem\n", wantErr: "nats.ca_file \"" + filepath.Join(tlsDir, "nope.pem")},
		{name: "nats key missing", yaml: "nats:\n  url: tls://a:4222\n  cert_file: $DIR/c.crt\n  key_file: $DIR/no.key\n", wantErr: "nats.key_file"},
		{name: "bad alg", yaml: "control:\n  ca_key_alg:\n    user: DSA\n", wantErr: "ECDSA-P256 or RSA-2048"},
		{name: "bad ca type", yaml: "control:\n  ca_key_alg:\n    foo: RSA-2048\n", wantErr: "unknown CA type"},
		{name: "daemon, agent and export in one file", yaml: combined, check: func(t *testing.T, c Config) {
			require.Equal(t, "/srv/tg", c.DataDir)
			require.Equal(t, "/srv/tg", c.Agent.Tollgate.DataDir)
			require.True(t, c.AgentEnabled)
			require.True(t, c.ControlEnabled())
			require.Equal(t, "127.0.0.1:7433", c.Agent.DBService.ListenAddr)
			require.Equal(t, "async", c.Agent.DBService.AuditMode)
			require.Len(t, c.Agent.DBService.Databases, 1)
			require.NotNil(t, c.Export)
			require.Equal(t, "audit-file", c.Export.Sinks[0].Name)
		}},
		{name: "no db_service: no agent", yaml: "data_dir: /x\n", check: func(t *testing.T, c Config) {
			require.False(t, c.AgentEnabled)
			require.Nil(t, c.Export)
		}},
		{name: "agent host: tollgate.data_dir is the data dir, control remote", yaml: agentHost, check: func(t *testing.T, c Config) {
			require.Equal(t, "/var/lib/tollgate", c.DataDir)
			require.False(t, c.ControlEnabled())
			require.True(t, c.AgentEnabled)
		}},
		{name: "data dirs differ", yaml: "data_dir: /a\ntollgate:\n  data_dir: /b\n", wantErr: "tollgate.data_dir"},
		{name: "unknown agent field names path and line", yaml: "data_dir: /a\ndb_service:\n  listen_adr: x\n", wantErr: "db_service.listen_adr (line 3)"},
		{name: "bad agent value names path and line", yaml: "db_service:\n  audit_mode: maybe\n", wantErr: "db_service.audit_mode (line 2)"},
		{name: "unknown export field names line", yaml: "export:\n  sinks:\n  - name: a\n    typ: file\n", wantErr: "line 4"},
		{name: "bad export value names field", yaml: "export:\n  sinks:\n  - name: a\n    type: nope\n", wantErr: "export.sinks[0]"},
		{name: "agent without control needs proxy_server", yaml: "control:\n  enabled: false\ndb_service: {}\n", wantErr: "tollgate.proxy_server"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse([]byte(strings.ReplaceAll(tc.yaml, "$DIR", tlsDir)))
			if tc.wantErr != "" {
				require.ErrorIs(t, err, ErrInvalid)
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}

// TestNATSListen: with no config the embedded NATS listens for agents on
// control's listen host, port 7422; nats.listen_addr moves it, none
// removes it, and there is none with an external NATS or without control.
func TestNATSListen(t *testing.T) {
	t.Parallel()
	for yaml, want := range map[string]string{
		"": "0.0.0.0:7422",
		"control:\n  listen_addr: 127.0.0.1:7080\n": "127.0.0.1:7422",
		"control:\n  listen_addr: 0.0.0.0:7080\n":   "0.0.0.0:7422",
		"control:\n  listen_addr: \":7080\"\n":      ":7422",
		"nats:\n  listen_addr: 10.0.0.1:4443\n":     "10.0.0.1:4443",
		"nats:\n  listen_addr: none\n":              "",
		"nats:\n  url: nats://n1:4222\n":            "",
		agentHost:                                   "",
	} {
		c, err := Parse([]byte(yaml))
		require.NoError(t, err, yaml)
		require.Equal(t, want, c.NATSListen(), yaml)
	}
	c := Default()
	require.Equal(t, "0.0.0.0:7422", c.NATSListen(), "the defaults without a file")
}

func TestResolveDataDir(t *testing.T) {
	t.Setenv(EnvDataDir, "")
	require.Equal(t, DefaultDataDir, ResolveDataDir(""))
	t.Setenv(EnvDataDir, "/x")
	require.Equal(t, "/x", ResolveDataDir(""))
	require.Equal(t, "/y", ResolveDataDir("/y"))
}

const combined = `data_dir: /srv/tg
cluster_name: one
control:
  listen_addr: 127.0.0.1:7080
tollgate:
  data_dir: /srv/tg
db_service:
  listen_addr: 127.0.0.1:7433
  audit_mode: async
  databases:
  - name: roach
    protocol: cockroachdb
    uri: 127.0.0.1:26257
export:
  sinks:
  - name: audit-file
    type: file
    file:
      path: /srv/tg/audit.jsonl
`

const agentHost = `tollgate:
  auth_token: /etc/tollgate/token
  proxy_server: control.example.com:7080
  ca_pin: sha256:0000000000000000000000000000000000000000000000000000000000000000
  data_dir: /var/lib/tollgate
db_service:
  databases:
  - name: roach
    protocol: cockroachdb
    uri: roach.example.com:26257
`

// TestAgentsGoodConfigsStartTheDaemon reads every config agent/config
// accepts as good with the daemon's parser: a file the agent's parser
// takes must not be refused by `tollgate start` (a top-level `version:`
// key once was).
func TestAgentsGoodConfigsStartTheDaemon(t *testing.T) {
	files, err := filepath.Glob("../../agent/config/testdata/good/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			_, err = Parse(raw)
			require.NoError(t, err)
		})
	}
}
