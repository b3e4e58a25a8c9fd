package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	agentconfig "github.com/tollgate-db/tollgate/agent/config"
)

// newDBCommand returns `tollgate db` with `db configure create`.
func newDBCommand() *cobra.Command {
	db := &cobra.Command{
		Use:   "db",
		Short: "Database service helpers",
		Args:  cobra.NoArgs,
	}
	configure := &cobra.Command{
		Use:   "configure",
		Short: "Write database service configuration",
		Args:  cobra.NoArgs,
	}
	configure.AddCommand(newDBConfigureCreateCommand())
	db.AddCommand(configure)
	return db
}

type dbConfigureOptions struct {
	output, token, proxy, caPin, dataDir          string
	name, description, protocol, uri, labels      string
	caCertFile, serverName, publicAddr, listenAdr string
	metricsAddr                                   string
	force, tunnel                                 bool
}

func newDBConfigureCreateCommand() *cobra.Command {
	var o dbConfigureOptions
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Write a tollgate.yaml that joins a cluster and serves a database",
		Long: `Write a Tollgate config (YAML) for an agent that joins a cluster with a join
token and serves one database through its PostgreSQL-wire listener (port 7432).

The file holds the join token (or the path of the file holding it), so it is
written with mode 0600, and an existing file is never overwritten without --force.
Start the agent with 'tollgate start --config FILE' or install it as a service with
'tollgate install systemd'.

--token takes the token itself or the path of a file holding it (a value with a
'/' is a path, and must exist). The agent reads it at its first start only, to
join. Under systemd keep it in ` + agentconfig.DefaultTokenPath + `: the unit 'tollgate install systemd'
writes hides /tmp (PrivateTmp=true) and /home (ProtectHome=true) from the service.`,
		Example: `  # On the control host: make a join token for a database agent.
  tollctl tokens add --type=db --format=text

  # On the host that runs the agent: save it where the service can read it.
  sudo install -d -m 0700 /etc/tollgate
  sudo sh -c 'umask 077; cat > /etc/tollgate/token'     # paste the token, then Ctrl-D

  # Write /etc/tollgate.yaml.
  sudo tollgate db configure create \
    -o file \
    --token=/etc/tollgate/token \
    --proxy=tollgate.example.com:7080 \
    --ca-pin=sha256:<pin printed by 'tollctl status'> \
    --name=roach \
    --protocol=cockroachdb \
    --uri=roach.example.com:26257 \
    --labels=env=dev

  # Print the config instead, to merge it into an existing file by hand.
  tollgate db configure create -o stdout --token=/etc/tollgate/token --proxy=tollgate.example.com:7080 \
    --name=roach --protocol=cockroachdb --uri=roach.example.com:26257`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDBConfigureCreate(cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "stdout", `where to write: "file" (`+agentconfig.DefaultConfigPath+`), "stdout", or a path`)
	f.StringVar(&o.token, "token", "", "join token: the value, or the path of a file holding it (from 'tollctl tokens add --type=db')")
	f.StringVar(&o.proxy, "proxy", "", "control address HOST:PORT")
	f.StringVar(&o.caPin, "ca-pin", "", "expected cluster CA pin sha256:<hex> (from 'tollctl status')")
	f.StringVar(&o.dataDir, "data-dir", agentconfig.DefaultDataDir, "data dir for the agent's identity and audit spool")
	f.StringVar(&o.name, "name", "", "database name clients use, e.g. roach")
	f.StringVar(&o.description, "description", "", "database description shown by 'toll db ls'")
	f.StringVar(&o.protocol, "protocol", "", "database protocol: cockroachdb or postgres")
	f.StringVar(&o.uri, "uri", "", "database address HOST:PORT")
	f.StringVar(&o.labels, "labels", "", "database labels: key=value[,key=value…]")
	f.StringVar(&o.caCertFile, "ca-cert-file", "", "PEM CA bundle to verify the database with (default: the cluster's db CA)")
	f.StringVar(&o.serverName, "server-name", "", "name to verify in the database's cert (default: the host of --uri)")
	f.StringVar(&o.publicAddr, "public-addr", "", "HOST:PORT clients use to reach this agent")
	f.StringVar(&o.listenAdr, "listen-addr", "", "PostgreSQL-wire listener (default "+agentconfig.DefaultListenAddr+")")
	f.BoolVar(&o.tunnel, "tunnel", false, "keep a reverse tunnel to control: clients reach the databases through control's port, nothing dials the agent (db_service.tunnel)")
	f.StringVar(&o.metricsAddr, "metrics-addr", agentconfig.DefaultMetricsAddr, "Prometheus /metrics and /healthz listener (none: no listener)")
	f.BoolVar(&o.force, "force", false, "overwrite an existing file")
	return cmd
}

// configOutputPath maps -o to a path; "" means stdout.
func configOutputPath(o string) string {
	switch o {
	case "stdout", "-", "":
		return ""
	case "file":
		return agentconfig.DefaultConfigPath
	}
	return strings.TrimPrefix(o, "file://")
}

func runDBConfigureCreate(stdout, stderr io.Writer, o dbConfigureOptions) error {
	f, err := buildDBConfig(o)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString("# Tollgate agent configuration, written by 'tollgate db configure create'.\n")
	buf.WriteString("# It may hold a join token: keep it 0600.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	if _, err := agentconfig.Parse(buf.Bytes()); err != nil {
		return fmt.Errorf("the flags make an invalid config: %w", err)
	}
	if o.token != "" {
		// A token file must exist now: a missing one would be taken for
		// the token value at the agent's first start.
		if _, err := f.Tollgate.Token(); err != nil {
			return fmt.Errorf("--token: %w", err)
		}
		if s := hiddenBySandbox(o.token); s != "" && strings.ContainsRune(o.token, '/') {
			fmt.Fprintf(stderr, "Note: the service 'tollgate install systemd' writes cannot read %s (%s hides it): "+
				"move it to %s and pass --token=%s, unless you run 'tollgate start' yourself\n", o.token, s, agentconfig.DefaultTokenPath, agentconfig.DefaultTokenPath)
		}
	}
	path := configOutputPath(o.output)
	if path == "" {
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	if err := writeFileSecret(path, buf.Bytes(), o.force); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Wrote %s. Start the agent with: tollgate start --config %s\n", path, path)
	return nil
}

func buildDBConfig(o dbConfigureOptions) (agentconfig.File, error) {
	enabled := true
	f := agentconfig.File{
		Tollgate: agentconfig.Join{
			AuthToken:   o.token,
			ProxyServer: o.proxy,
			CAPin:       o.caPin,
			DataDir:     o.dataDir,
		},
		DBService: agentconfig.DBService{
			Enabled:     &enabled,
			ListenAddr:  o.listenAdr,
			PublicAddr:  o.publicAddr,
			MetricsAddr: o.metricsAddr,
		},
	}
	if o.tunnel {
		f.DBService.Tunnel = &o.tunnel
	}
	if o.token != "" && o.proxy == "" {
		return f, errors.New("--token needs --proxy=HOST:PORT, the control address to join")
	}
	if o.name == "" {
		if o.protocol != "" || o.uri != "" || o.labels != "" {
			return f, errors.New("--protocol, --uri and --labels describe a database: add --name")
		}
		return f, nil
	}
	if o.protocol == "" || o.uri == "" {
		return f, errors.New("a database needs --protocol=cockroachdb|postgres and --uri=HOST:PORT")
	}
	labels, err := parseLabels(o.labels)
	if err != nil {
		return f, err
	}
	f.DBService.Databases = []agentconfig.Database{{
		Name:        o.name,
		Description: o.description,
		Protocol:    o.protocol,
		URI:         o.uri,
		Labels:      labels,
		TLS:         agentconfig.DatabaseTLS{CACertFile: o.caCertFile, ServerName: o.serverName},
	}}
	return f, nil
}

// parseLabels parses "k=v,k2=v2".
func parseLabels(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--labels %q: use key=value[,key=value…], e.g. env=dev", s)
		}
		out[k] = v
	}
	return out, nil
}

// writeFileSecret writes data to path with mode 0600, refusing to replace
// an existing file unless force.
func writeFileSecret(path string, data []byte, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	fh, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists: pass --force to overwrite it, or -o stdout to print", path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := fh.Chmod(0o600); err != nil {
		fh.Close()
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
