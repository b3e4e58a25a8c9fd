package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestInstallSystemdGolden(t *testing.T) {
	t.Parallel()
	out, _, err := execCmd(t, "install", "systemd", "-o", "stdout")
	require.NoError(t, err)
	golden := filepath.Join("testdata", "tollgate.service.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(out), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), out)
	require.Contains(t, out, "ExecStart=/usr/local/bin/tollgate start --config /etc/tollgate.yaml\n")
	require.Contains(t, out, "ReadWritePaths=/var/lib/tollgate\n")
}

func TestInstallSystemdFileAndVerify(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "tollgate")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755))
	unit := filepath.Join(dir, "tollgate.service")
	args := []string{"install", "systemd", "-o", unit, "--binary", bin, "--config", "/srv/t.yaml", "--data-dir", "/srv/tollgate-data"}
	_, msg, err := execCmd(t, args...)
	require.NoError(t, err)
	require.Contains(t, msg, "systemctl daemon-reload")
	raw, err := os.ReadFile(unit)
	require.NoError(t, err)
	text := string(raw)
	require.Contains(t, text, "ExecStart="+bin+" start --config /srv/t.yaml\n")
	require.Contains(t, text, "ReadWritePaths=/srv/tollgate-data\n")
	require.NotContains(t, text, "StateDirectory=", "only for data dirs under /var/lib")
	for _, want := range []string{"Restart=on-failure", "ExecReload=/bin/kill -HUP $MAINPID", "NoNewPrivileges=true", "ProtectSystem=strict", "PrivateTmp=true", "ProtectHome=true", "LimitNOFILE="} {
		require.Contains(t, text, want+"")
	}
	st, err := os.Stat(unit)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), st.Mode().Perm())

	_, _, err = execCmd(t, args...)
	require.ErrorContains(t, err, "--force")

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: unit not verified by systemd")
		return
	}
	res, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	require.NoError(t, err, "systemd-analyze verify: %s", res)
}

func TestInstallSystemdRejectsBadPaths(t *testing.T) {
	t.Parallel()
	_, _, err := execCmd(t, "install", "systemd", "--binary", "tollgate")
	require.ErrorContains(t, err, "absolute path")
	_, _, err = execCmd(t, "install", "systemd", "--config", "/etc/my config.yaml")
	require.ErrorContains(t, err, "without spaces")
}

// TestInstallSystemdChecksTheConfig: with an existing config the unit's
// writable dir is the config's data dir, and the config and token files
// the sandbox hides (here: temp dirs under /tmp, when TMPDIR is there)
// are reported with what to do; --data-dir that disagrees is reported too.
func TestInstallSystemdChecksTheConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(token, []byte("0123abcd\n"), 0o600))
	cfg := filepath.Join(dir, "tollgate.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("tollgate:\n  auth_token: "+token+"\n  proxy_server: c.example.com:7080\n  data_dir: /srv/agent-data\n"+
		"db_service:\n  listen_addr: 0.0.0.0:7432\n"), 0o600))
	out, msg, err := execCmd(t, "install", "systemd", "-o", "stdout", "--config", cfg)
	require.NoError(t, err)
	require.Contains(t, out, "ReadWritePaths=/srv/agent-data\n", "the config's data dir")
	if hiddenBySandbox(dir) != "" {
		require.Contains(t, msg, "the service cannot read "+cfg)
		require.Contains(t, msg, "the service cannot read the join token file "+token)
		require.Contains(t, msg, "tollgate.auth_token: /etc/tollgate/token")
	} else {
		require.NotContains(t, msg, "cannot read")
	}

	_, msg, err = execCmd(t, "install", "systemd", "-o", "stdout", "--config", cfg, "--data-dir", "/var/lib/tollgate")
	require.NoError(t, err)
	require.Contains(t, msg, "uses data dir /srv/agent-data but the unit lets the service write only /var/lib/tollgate")
}
