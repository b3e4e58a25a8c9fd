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
