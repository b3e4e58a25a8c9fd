package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/devprof"
	"github.com/tollgate-db/tollgate/internal/gomaxprocs"
	"github.com/tollgate-db/tollgate/internal/logging"
	"github.com/tollgate-db/tollgate/internal/node"
)

type startOptions struct {
	configFile, dataDir, clusterName, natsURL, natsCreds, listen, logLevel, logFormat, metricsAddr string
	publicAddr, natsListen, natsLeafListen                                                         string
}

func newStartCommand() *cobra.Command {
	var o startOptions
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run the daemon (control plane, embedded NATS JetStream; agent and export when configured)",
		Long: `Run the daemon until SIGTERM or SIGINT.

With no --config, a single node runs in ./tollgate-data (or --data-dir / TOLLGATE_DATA_DIR):
embedded NATS JetStream, the control plane and its HTTPS API on 0.0.0.0:7080. The first
start creates the cluster (its four CAs, built-in roles and the local admin identity used by
tollctl on this host); later starts change nothing. One process per data dir: a second start
on a dir in use fails at once, naming the PID that holds it.

Agents on other hosts join with no config file: the API listens on every interface (like a
Teleport proxy; --listen 127.0.0.1:7080 keeps it on this host), and the embedded NATS listens
for agents (TLS with control's host cert; only joined agents' host certs get in, with an
agent's rights) on control's listen host, port 7422; the join tells each agent where. Control's
cert names this host's hostname and addresses; give the name agents and clients dial with
--public-addr when it is another:

  tollgate start --public-addr tollgate.example.com:7080

(--nats-listen HOST:PORT moves the NATS listener, --nats-listen none removes it: agents in
this process only. --nats-leaf-listen HOST:PORT adds one for leaf agents, whose audit is durable
on their own host while the link to control is down.) Metrics and health are on 127.0.0.1:7090 (--metrics-addr).

One --config file holds every part: the daemon's (data_dir, cluster_name, nats, control, log),
the agent's (tollgate:, db_service:) and the export subscribers' (export:). The agent runs when
the file has a db_service section; in a single node it joins the control plane in this process
with a one-time token the node creates itself. When tollgate.proxy_server is set (a file written
by 'tollgate db configure create'), control does not run here: the agent joins control there with
tollgate.auth_token, checked against tollgate.ca_pin, and reaches NATS at the address the join
answers. tollgate.data_dir and data_dir name the same directory. SIGHUP reloads the agent's
config and certificates.`,
		Example: `  # a single node in ./tollgate-data, which agents on other hosts can join
  tollgate start

  # the same, dialled by a DNS name of its own; or kept on this host only
  tollgate start --data-dir /var/lib/tollgate --public-addr tollgate.example.com:7080
  tollgate start --listen 127.0.0.1:7080

  # with a config file written by 'tollgate db configure create'
  tollgate start --config /etc/tollgate.yaml

  # against an existing NATS cluster
  tollgate start --nats-url nats://nats-1:4222 --nats-creds /etc/tollgate/nats.creds`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.config()
			if err != nil {
				return err
			}
			log, err := logging.New(cmd.ErrOrStderr(), logging.Options{Level: cfg.Log.Level, Format: cfg.Log.Format})
			if err != nil {
				return err
			}
			defer gomaxprocs.Start(cmd.Context(), log)()
			if dir := os.Getenv(devprof.EnvDir); dir != "" {
				stop, err := devprof.Start(dir)
				if err != nil {
					return err
				}
				defer func() {
					if err := stop(); err != nil {
						log.Error().Err(err).Msg("write profiles")
					}
				}()
			}
			return node.Run(cmd.Context(), cfg, log, node.Options{
				Agent: node.AgentOptions{ConfigPath: o.configFile, ReloadOnSIGHUP: true}})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.configFile, "config", "", "YAML configuration file")
	f.StringVar(&o.dataDir, "data-dir", "", "data directory (default $TOLLGATE_DATA_DIR or ./tollgate-data)")
	f.StringVar(&o.clusterName, "cluster-name", "", "cluster name, used at first start (default the hostname)")
	f.StringVar(&o.natsURL, "nats-url", "", "external NATS server URL (default: embedded JetStream)")
	f.StringVar(&o.natsCreds, "nats-creds", "", "NATS credentials file for --nats-url")
	f.StringVar(&o.listen, "listen", "", "control API listen address (default 0.0.0.0:7080: every interface; 127.0.0.1:7080 keeps it on this host)")
	f.StringVar(&o.publicAddr, "public-addr", "", "address clients and agents dial control by (a name in its cert; default the listen address)")
	f.StringVar(&o.natsListen, "nats-listen", "", "embedded NATS listener for agents on other hosts (default: the --listen host, port 7422; none: no listener)")
	f.StringVar(&o.natsLeafListen, "nats-leaf-listen", "", "embedded NATS listener for leaf agents (db_service.audit_leaf), e.g. 0.0.0.0:7423 (default: none)")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", "metrics and health listener of control and the agent: overrides control.metrics_addr and db_service.metrics_addr (default 127.0.0.1:7090; none for no listener)")
	f.StringVar(&o.logLevel, "log-level", "", "debug, info, warn or error")
	f.StringVar(&o.logFormat, "log-format", "", "auto, text or json")
	return cmd
}

// config is the daemon's configuration: --config (else the defaults, in
// --data-dir or TOLLGATE_DATA_DIR or ./tollgate-data) with the flags over
// it.
func (o startOptions) config() (config.Config, error) {
	cfg := config.Default()
	if o.configFile != "" {
		var err error
		if cfg, err = config.Load(o.configFile); err != nil {
			return cfg, err
		}
	}
	if o.dataDir != "" || o.configFile == "" {
		cfg.DataDir = config.ResolveDataDir(o.dataDir)
	}
	for _, f := range []struct {
		flag string
		to   *string
	}{
		{o.clusterName, &cfg.ClusterName}, {o.natsURL, &cfg.NATS.URL}, {o.natsCreds, &cfg.NATS.Creds},
		{o.listen, &cfg.Control.ListenAddr}, {o.publicAddr, &cfg.Control.PublicAddr}, {o.natsListen, &cfg.NATS.ListenAddr}, {o.natsLeafListen, &cfg.NATS.LeafListenAddr},
		// One override for the process: control's and the agent's.
		{o.metricsAddr, &cfg.Control.MetricsAddr}, {o.metricsAddr, &cfg.Agent.DBService.MetricsAddr},
		{o.logLevel, &cfg.Log.Level}, {o.logFormat, &cfg.Log.Format},
	} {
		if f.flag != "" {
			*f.to = f.flag
		}
	}
	return cfg, nil
}
