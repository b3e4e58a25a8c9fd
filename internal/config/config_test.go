package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
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
		}},
		{name: "rsa for db", yaml: "control:\n  ca_key_alg:\n    db: rsa-2048\n", check: func(t *testing.T, c Config) {
			require.Equal(t, KeyAlgRSA, c.KeyAlg("db"))
			require.Equal(t, KeyAlgECDSA, c.KeyAlg("host"))
		}},
		{name: "unknown key", yaml: "data_dir: x\nbogus: 1\n", wantErr: "line 2"},
		{name: "bad listen", yaml: "control:\n  listen_addr: nope\n", wantErr: "control.listen_addr"},
		{name: "bad alg", yaml: "control:\n  ca_key_alg:\n    user: DSA\n", wantErr: "ECDSA-P256 or RSA-2048"},
		{name: "bad ca type", yaml: "control:\n  ca_key_alg:\n    foo: RSA-2048\n", wantErr: "unknown CA type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse([]byte(tc.yaml))
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

func TestResolveDataDir(t *testing.T) {
	t.Setenv(EnvDataDir, "")
	require.Equal(t, DefaultDataDir, ResolveDataDir(""))
	t.Setenv(EnvDataDir, "/x")
	require.Equal(t, "/x", ResolveDataDir(""))
	require.Equal(t, "/y", ResolveDataDir("/y"))
}
