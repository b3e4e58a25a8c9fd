package profile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProxiesStored(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, proxy, want string
	}{
		{"one address is stored as before", "a:7080",
			`{"proxy":"a:7080","user":"alice","cluster":"c"}`},
		{"several are stored as a list, the first also as proxy", "a:7080,b:7080",
			`{"proxy":"a:7080","proxies":["a:7080","b:7080"],"user":"alice","cluster":"c"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := &Profile{Dir: dir, Proxy: tc.proxy, User: "alice", Cluster: "c"}
			require.NoError(t, p.Save())
			raw, err := os.ReadFile(filepath.Join(dir, MetaFile))
			require.NoError(t, err)
			require.JSONEq(t, tc.want, string(raw))
			back, err := Load(dir)
			require.NoError(t, err)
			require.Equal(t, tc.proxy, back.Proxy)
			require.Equal(t, "alice", back.User)
		})
	}
}

func TestOldProfileLoads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, MetaFile),
		[]byte(`{"proxy": "control:7080", "user": "bob", "ca_pin": "sha256:ab"}`), 0o600))
	for _, f := range []string{CertFile, KeyFile, CAsFile} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), nil, 0o600))
	}
	p, err := Load(dir)
	require.NoError(t, err)
	require.Equal(t, "control:7080", p.Proxy)
	require.Equal(t, "bob", p.User)
	require.Equal(t, "sha256:ab", p.CAPin)

	var q Profile
	require.NoError(t, json.Unmarshal([]byte(`{"proxy":"a:1","proxies":["a:1","b:2"]}`), &q))
	require.Equal(t, "a:1,b:2", q.Proxy)
}
