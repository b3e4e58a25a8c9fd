package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	agentconfig "github.com/tollgate-db/tollgate/agent/config"
)

// DefaultBinaryPath is the tollgate binary the systemd unit runs.
const defaultBinaryPath = "/usr/local/bin/tollgate"

// newInstallCommand returns `tollgate install` with `install systemd`.
func newInstallCommand() *cobra.Command {
	install := &cobra.Command{
		Use:   "install",
		Short: "Install Tollgate as a service",
		Args:  cobra.NoArgs,
	}
	install.AddCommand(newInstallSystemdCommand())
	return install
}

type systemdOptions struct {
	output, config, binary, dataDir string
	force                           bool
}

func newInstallSystemdCommand() *cobra.Command {
	var o systemdOptions
	cmd := &cobra.Command{
		Use:   "systemd",
		Short: "Write a systemd unit that runs 'tollgate start'",
		Long: `Write a systemd unit that runs 'tollgate start --config FILE', restarts it on
failure, reloads config and certs on 'systemctl reload' (SIGHUP), drains on stop
(SIGTERM), and runs sandboxed: read-only system, writable data dir only.`,
		Example: `  sudo tollgate install systemd -o /etc/systemd/system/tollgate.service
  sudo systemctl daemon-reload
  sudo systemctl enable tollgate
  sudo systemctl start tollgate
  systemctl status tollgate; journalctl -fu tollgate`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInstallSystemd(cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "stdout", `where to write the unit: a path or "stdout"`)
	f.StringVar(&o.config, "config", agentconfig.DefaultConfigPath, "config file 'tollgate start' reads")
	f.StringVar(&o.binary, "binary", defaultBinaryPath, "absolute path of the tollgate binary")
	f.StringVar(&o.dataDir, "data-dir", agentconfig.DefaultDataDir, "data dir: the one path the service may write")
	f.BoolVar(&o.force, "force", false, "overwrite an existing unit file")
	return cmd
}

var systemdUnit = template.Must(template.New("unit").Parse(`[Unit]
Description=Tollgate audit-first database access gateway
Documentation=https://github.com/tollgate-db/tollgate
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
ExecStart={{.Binary}} start --config {{.Config}}
ExecReload=/bin/kill -HUP $MAINPID
KillSignal=SIGTERM
TimeoutStopSec=30s
Restart=on-failure
RestartSec=5s
LimitNOFILE=524288
{{- if .StateDirectory}}
StateDirectory={{.StateDirectory}}
StateDirectoryMode=0700
{{- end}}
ReadWritePaths={{.DataDir}}
UMask=0077
NoNewPrivileges=true
ProtectSystem=strict
ProtectHome=true
PrivateTmp=true
PrivateDevices=true
ProtectKernelTunables=true
ProtectKernelModules=true
ProtectKernelLogs=true
ProtectControlGroups=true
ProtectClock=true
ProtectHostname=true
RestrictSUIDSGID=true
RestrictRealtime=true
RestrictNamespaces=true
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
LockPersonality=true
MemoryDenyWriteExecute=true
SystemCallArchitectures=native
CapabilityBoundingSet=CAP_NET_BIND_SERVICE

[Install]
WantedBy=multi-user.target
`))

func renderSystemdUnit(o systemdOptions) ([]byte, error) {
	for _, p := range []struct{ flag, v string }{{"--binary", o.binary}, {"--config", o.config}, {"--data-dir", o.dataDir}} {
		if !filepath.IsAbs(p.v) {
			return nil, fmt.Errorf("%s %q: systemd needs an absolute path", p.flag, p.v)
		}
		if strings.ContainsAny(p.v, " \t\n\"'\\$%;") {
			return nil, fmt.Errorf("%s %q: use a path without spaces, quotes or special characters", p.flag, p.v)
		}
	}
	data := struct{ Binary, Config, DataDir, StateDirectory string }{
		Binary: o.binary, Config: o.config, DataDir: filepath.Clean(o.dataDir),
	}
	// Under /var/lib, let systemd create the data dir with the right owner.
	if rel, ok := strings.CutPrefix(data.DataDir, "/var/lib/"); ok && rel != "" {
		data.StateDirectory = rel
	}
	var buf bytes.Buffer
	if err := systemdUnit.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("render unit: %w", err)
	}
	return buf.Bytes(), nil
}

func runInstallSystemd(stdout, stderr io.Writer, o systemdOptions) error {
	unit, err := renderSystemdUnit(o)
	if err != nil {
		return err
	}
	if o.output == "stdout" || o.output == "-" || o.output == "" {
		_, err := stdout.Write(unit)
		return err
	}
	if err := writeUnitFile(o.output, unit, o.force); err != nil {
		return err
	}
	name := strings.TrimSuffix(filepath.Base(o.output), ".service")
	fmt.Fprintf(stderr, "Wrote %s. Next: systemctl daemon-reload && systemctl enable --now %s\n", o.output, name)
	return nil
}

func writeUnitFile(path string, data []byte, force bool) error {
	err := writeFileSecret(path, data, force)
	if err != nil {
		return err
	}
	// A unit is not secret; systemd and admins read it.
	if err := os.Chmod(path, 0o644); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	return nil
}
