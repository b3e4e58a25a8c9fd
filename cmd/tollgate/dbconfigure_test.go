package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	agentconfig "github.com/tollgate-db/tollgate/agent/config"
)

func execCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	var cmd = newDBCommand()
	if args[0] == "install" {
		cmd = newInstallCommand()
	}
	cmd.SetArgs(args[1:])
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage = true
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

const pin = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestDBConfigureCreateStdoutParsesBack(t *testing.T) {
	t.Parallel()
	token := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(token, []byte("0123abcd\n"), 0o600))
	out, _, err := execCmd(t, "db", "configure", "create", "-o", "stdout",
		"--token="+token, "--proxy=control.example.com:7080", "--ca-pin="+pin,
		"--name=roach", "--protocol=cockroachdb", "--uri=roach.example.com:26257",
		"--labels=env=dev,team=data", "--ca-cert-file=/etc/tollgate/ca.crt",
		"--public-addr=agent.example.com:7432", "--data-dir=/srv/tollgate")
	require.NoError(t, err)
	f, err := agentconfig.Parse([]byte(out))
	require.NoError(t, err, out)
	require.Equal(t, agentconfig.Join{AuthToken: token, ProxyServer: "control.example.com:7080", CAPin: pin, DataDir: "/srv/tollgate"}, f.Tollgate)
	require.True(t, f.DBService.IsEnabled())
	require.Equal(t, "agent.example.com:7432", f.DBService.PublicAddr)
	require.Contains(t, out, "metrics_addr: 127.0.0.1:7090", "the file says where metrics and health are: loopback")
	require.Len(t, f.DBService.Databases, 1)
	d := f.DBService.Databases[0]
	require.Equal(t, "roach", d.Name)
	require.Equal(t, "cockroachdb", d.Protocol)
	require.Equal(t, "roach.example.com:26257", d.URI)
	require.Equal(t, map[string]string{"env": "dev", "team": "data"}, d.Labels)
	require.Equal(t, "/etc/tollgate/ca.crt", d.TLS.CACertFile)
	require.Equal(t, agentconfig.TLSVerifyFull, d.TLS.Mode)
}

func TestDBConfigureCreateFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tollgate.yaml")
	args := []string{"db", "configure", "create", "-o", path, "--token=0123abcd", "--proxy=localhost:7080",
		"--name=roach", "--protocol=postgres", "--uri=localhost:5432"}
	out, msg, err := execCmd(t, args...)
	require.NoError(t, err)
	require.Empty(t, out, "the config goes to the file, not stdout")
	require.Contains(t, msg, "tollgate start --config "+path)
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	f, err := agentconfig.Load(path)
	require.NoError(t, err)
	tok, err := f.Tollgate.Token()
	require.NoError(t, err)
	require.Equal(t, "0123abcd", tok)

	// An existing file is kept unless --force.
	require.NoError(t, os.WriteFile(path, []byte("keep"), 0o644))
	_, _, err = execCmd(t, args...)
	require.ErrorContains(t, err, "--force")
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "keep", string(raw))
	_, _, err = execCmd(t, append(args, "--force")...)
	require.NoError(t, err)
	st, err = os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "--force makes an existing file 0600 too")
	_, err = agentconfig.Load(path)
	require.NoError(t, err)
}

func TestDBConfigureCreateErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		args []string
		want string
	}{
		"bad protocol":    {[]string{"--name=x", "--protocol=mysql", "--uri=h:1"}, `db_service.databases[0].protocol`},
		"no uri":          {[]string{"--name=x", "--protocol=postgres"}, "--uri=HOST:PORT"},
		"token no proxy":  {[]string{"--token=abc"}, "--proxy"},
		"bad labels":      {[]string{"--name=x", "--protocol=postgres", "--uri=h:1", "--labels=env"}, "key=value"},
		"bad pin":         {[]string{"--ca-pin=abc"}, "tollgate.ca_pin"},
		"db without name": {[]string{"--protocol=postgres"}, "--name"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, _, err := execCmd(t, append([]string{"db", "configure", "create", "-o", "stdout"}, c.args...)...)
			require.ErrorContains(t, err, c.want)
		})
	}
}

func TestDBConfigureCreateHelpTeaches(t *testing.T) {
	t.Parallel()
	out, _, err := execCmd(t, "db", "configure", "create", "--help")
	require.NoError(t, err)
	for _, want := range []string{"tollctl tokens add --type=db --format=text", "-o file", "--token=/etc/tollgate/token", "PrivateTmp=true", "--name=roach", "--protocol=cockroachdb", "--labels=env=dev", "0600"} {
		require.True(t, strings.Contains(out, want), "help lacks %q", want)
	}
}

func TestConfigOutputPath(t *testing.T) {
	t.Parallel()
	require.Equal(t, "/etc/tollgate.yaml", configOutputPath("file"))
	require.Equal(t, "", configOutputPath("stdout"))
	require.Equal(t, "/x/y.yaml", configOutputPath("/x/y.yaml"))
	require.Equal(t, "/x/y.yaml", configOutputPath("file:///x/y.yaml"))
}

// TestDBConfigureCreateTokenFile: a --token path that does not exist is an
// error naming the file (not a token value the join would send); a token
// file the systemd unit's sandbox hides is written but noted, with the
// path to use instead.
func TestDBConfigureCreateTokenFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "token")
	base := []string{"db", "configure", "create", "-o", "stdout", "--proxy=localhost:7080"}
	_, _, err := execCmd(t, append(base, "--token="+missing)...)
	require.ErrorContains(t, err, "token file "+missing+" not found")

	require.NoError(t, os.WriteFile(missing, []byte("0123abcd\n"), 0o600))
	out, msg, err := execCmd(t, append(base, "--token="+missing)...)
	require.NoError(t, err)
	require.Contains(t, out, "auth_token: "+missing)
	if hiddenBySandbox(missing) != "" {
		require.Contains(t, msg, "cannot read "+missing)
		require.Contains(t, msg, "--token=/etc/tollgate/token")
	} else {
		require.Empty(t, msg)
	}
	_, msg, err = execCmd(t, append(base, "--token=0123abcd")...)
	require.NoError(t, err)
	require.Empty(t, msg, "a token value is no path")
}

func TestHiddenBySandbox(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]string{
		"/tmp/token": "PrivateTmp=true", "/var/tmp/x": "PrivateTmp=true", "/tmp": "PrivateTmp=true",
		"/home/op/token": "ProtectHome=true", "/root/token": "ProtectHome=true",
		"/etc/tollgate/token": "", "/tmpfoo/token": "", "relative/token": "", "/var/lib/tollgate": "",
	} {
		require.Equal(t, want, hiddenBySandbox(p), p)
	}
}
