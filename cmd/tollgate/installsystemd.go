package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	agentconfig "github.com/tollgate-db/tollgate/agent/config"
	"github.com/tollgate-db/tollgate/internal/config"
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
	// dataDirSet: --data-dir was given (else the config's data dir wins).
	dataDirSet bool
}

func newInstallSystemdCommand() *cobra.Command {
	var o systemdOptions
	cmd := &cobra.Command{
		Use:   "systemd",
		Short: "Write a systemd unit that runs 'tollgate start'",
		Long: `Write a systemd unit that runs 'tollgate start --config FILE', restarts it on
failure, reloads config and certs on 'systemctl reload' (SIGHUP), drains on stop
(SIGTERM), and runs sandboxed: read-only system, writable data dir only.

The sandbox hides /tmp and /var/tmp (PrivateTmp=true) and /home, /root and
/run/user (ProtectHome=true) from the service, so the config file and the join
token file (tollgate.auth_token) must live elsewhere: keep the token in
` + agentconfig.DefaultTokenPath + ` (/etc is readable, not writable, in the sandbox). When the
config file exists, the unit's writable data dir is the config's data_dir
(unless --data-dir), and every path the sandbox would hide is reported.`,
		Example: `  sudo tollgate install systemd -o /etc/systemd/system/tollgate.service
  sudo systemctl daemon-reload
  sudo systemctl enable tollgate
  sudo systemctl start tollgate
  systemctl status tollgate; journalctl -fu tollgate`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.dataDirSet = cmd.Flags().Changed("data-dir")
			return runInstallSystemd(cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "stdout", `where to write the unit: a path or "stdout"`)
	f.StringVar(&o.config, "config", agentconfig.DefaultConfigPath, "config file 'tollgate start' reads")
	f.StringVar(&o.binary, "binary", defaultBinaryPath, "absolute path of the tollgate binary")
	f.StringVar(&o.dataDir, "data-dir", agentconfig.DefaultDataDir, "data dir: the one path the service may write (default: the config's data_dir when the file exists)")
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
	o = checkUnitConfig(stderr, o)
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

// sandboxHidden are the dirs the unit's sandbox hides from the service,
// with the setting that hides them.
var sandboxHidden = []struct{ dir, setting string }{
	{"/tmp", "PrivateTmp=true"}, {"/var/tmp", "PrivateTmp=true"},
	{"/home", "ProtectHome=true"}, {"/root", "ProtectHome=true"}, {"/run/user", "ProtectHome=true"},
}

// hiddenBySandbox returns the unit setting that hides path from the
// service, or "".
func hiddenBySandbox(path string) string {
	if !filepath.IsAbs(path) {
		return ""
	}
	p := filepath.Clean(path)
	for _, h := range sandboxHidden {
		if p == h.dir || strings.HasPrefix(p, h.dir+"/") {
			return h.setting
		}
	}
	return ""
}

// checkUnitConfig reads the config the unit will run (when it exists):
// its data dir becomes the unit's writable path unless --data-dir was
// given, and each path the sandbox would hide from the service (the
// config itself, the join token file, the data dir) is reported on
// stderr with what to do.
func checkUnitConfig(stderr io.Writer, o systemdOptions) systemdOptions {
	if s := hiddenBySandbox(o.config); s != "" {
		fmt.Fprintf(stderr, "Warning: the service cannot read %s (%s hides it): move it, e.g. to %s, and pass --config\n",
			o.config, s, agentconfig.DefaultConfigPath)
	}
	cfg, err := config.Load(o.config)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "Warning: %v: the unit was not checked against it\n", err)
		}
		return o
	}
	if !o.dataDirSet && filepath.IsAbs(cfg.DataDir) {
		o.dataDir = cfg.DataDir
	} else if filepath.Clean(cfg.DataDir) != filepath.Clean(o.dataDir) {
		fmt.Fprintf(stderr, "Warning: %s uses data dir %s but the unit lets the service write only %s: pass --data-dir=%s\n",
			o.config, cfg.DataDir, o.dataDir, cfg.DataDir)
	}
	if tok := cfg.Agent.Tollgate.AuthToken; strings.ContainsRune(tok, '/') {
		if s := hiddenBySandbox(tok); s != "" {
			fmt.Fprintf(stderr, "Warning: the service cannot read the join token file %s (%s hides it): "+
				"move it to %s and set tollgate.auth_token: %s in %s\n", tok, s, agentconfig.DefaultTokenPath, agentconfig.DefaultTokenPath, o.config)
		}
	}
	if s := hiddenBySandbox(o.dataDir); s != "" {
		fmt.Fprintf(stderr, "Warning: the data dir %s is hidden from the service (%s): use a dir like %s\n", o.dataDir, s, agentconfig.DefaultDataDir)
	}
	return o
}
