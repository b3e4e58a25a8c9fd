package config

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/tollgate-db/tollgate/schemas"
	"io"
	"net"
	"net/url"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	agentconfig "github.com/tollgate-db/tollgate/agent/config"
	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sink"
	"github.com/tollgate-db/tollgate/internal/datadir"
)

// Defaults (DESIGN §6).
const (
	DefaultDataDir       = datadir.Default
	DefaultControlListen = "0.0.0.0:7080"
	// DefaultNATSPort is the embedded NATS listener's port for agents on
	// other hosts; its host is control's listen host.
	DefaultNATSPort = "7422"
	KeyAlgECDSA     = schemas.KeyAlgECDSAP256
	KeyAlgRSA       = schemas.KeyAlgRSA2048
	// EnvDataDir overrides the default data dir for every binary.
	EnvDataDir = datadir.Env
)

// ErrInvalid marks a configuration that cannot run.
var ErrInvalid = errors.New("invalid configuration")

// Config is the whole daemon configuration: one tollgate.yaml holds the
// daemon's sections (data_dir, cluster_name, nats, control, log), the
// agent's (tollgate:, db_service:; package agent/config) and the export
// subscribers' (export:; package export).
type Config struct {
	// DataDir is this process's data dir: the JetStream store, the
	// keystore, the local admin identity, and the agent's identity
	// (<data_dir>/agent) and audit spool (<data_dir>/spool).
	// `tollgate.data_dir` (written by `tollgate db configure create`) means
	// the same dir: when only it is set, it is the data dir; when both are
	// set they must be equal.
	DataDir string `yaml:"data_dir"`
	// ClusterName is used at first start only; default the hostname.
	ClusterName string  `yaml:"cluster_name"`
	NATS        NATS    `yaml:"nats"`
	Control     Control `yaml:"control"`
	Log         Log     `yaml:"log"`

	// Agent is the `tollgate:` and `db_service:` sections.
	Agent agentconfig.File `yaml:",inline"`
	// AgentEnabled is set when the file has a db_service section whose
	// enabled is not false: only then does this process run the agent.
	AgentEnabled bool `yaml:"-"`
	// Export is the `export:` section (nil: no export subscribers).
	Export *export.Config `yaml:"export"`
}

// NATS says where the event log lives. An empty URL runs an embedded
// server in DataDir.
type NATS struct {
	// URL of an external NATS server or cluster: several seed URLs are
	// comma-separated ("tls://n1:4222,tls://n2:4222,tls://n3:4222").
	URL   string `yaml:"url"`
	Creds string `yaml:"creds"`
	// CAFile verifies an external server's certificate (PEM; default the
	// system roots); CertFile and KeyFile are a client cert for mTLS (both
	// or neither). Only with URL: see validateNATSTLS.
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// Replicas of each stream; 1 on a single node, 3 on a cluster.
	Replicas int `yaml:"replicas"`
	// ListenAddr is the embedded server's listener for agents on other
	// hosts (HOST:PORT). It serves TLS with control's host cert and
	// requires a joined agent's host cert. Empty: the default, control's
	// listen host on port 7422 (so opening the API to the network opens
	// this with it); "none": no listener, agents in this process only.
	// See Config.NATSListen.
	ListenAddr string `yaml:"listen_addr"`
	// Advertise is the NATS URL handed to joining agents (e.g.
	// "tls://control.example.com:7422"); default derived from ListenAddr.
	// Its host is added to control's host cert.
	Advertise string `yaml:"advertise"`
	// LeafListenAddr is the embedded server's listener for leaf agents
	// (db_service.audit_leaf), HOST:PORT, e.g. "0.0.0.0:7423". It serves
	// TLS with control's host cert and requires a joined agent's host
	// cert. Empty: none.
	LeafListenAddr string `yaml:"leaf_listen_addr"`
	// Domain is the embedded JetStream's domain, which leaf agents reach
	// it by (their db_service.audit_leaf.hub_domain); default "tollgate"
	// with a leaf listener.
	Domain string `yaml:"domain"`
}

// NATSDomain is the embedded JetStream's domain: nats.domain, else
// "tollgate" with a leaf listener, else none.
func (c *Config) NATSDomain() string {
	if c.NATS.Domain != "" {
		return c.NATS.Domain
	}
	if c.NATS.LeafListenAddr != "" {
		return agentconfig.DefaultHubDomain
	}
	return ""
}

// Control configures the control plane.
type Control struct {
	// Enabled runs control in this process (default true).
	Enabled *bool `yaml:"enabled"`
	// ListenAddr is the HTTPS API listener.
	ListenAddr string `yaml:"listen_addr"`
	// PublicAddr is the address clients and agents use; it is a SAN of the
	// control host cert.
	PublicAddr string `yaml:"public_addr"`
	// CAKeyAlg selects the key algorithm per CA type ("user", "host", "db",
	// "db_client"): ECDSA-P256 (default) or RSA-2048.
	CAKeyAlg map[string]string `yaml:"ca_key_alg"`
	// SealKeyFile optionally seals the keystore with a key file; the
	// nats keystore requires it.
	SealKeyFile string `yaml:"seal_key_file"`
	// Keystore is where CA keys and secrets live: "file" (default: the
	// data dir's keystore) or "nats" (one sealed NATS KV bucket, shared
	// by every control on the cluster; KeystoreNATS).
	Keystore string `yaml:"keystore"`
	// MetricsAddr serves the process's Prometheus /metrics (export lag
	// among them) and control's /healthz (default 127.0.0.1:7090; "none"
	// or "-": no listener). When the agent runs in the same process on
	// the same address, one listener serves both.
	MetricsAddr string `yaml:"metrics_addr"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// NATSListen is the address of the embedded server's listener for agents
// on other hosts, or "" when there is none: nats.listen_addr, else
// control's listen host with port 7422; none when it says none, when the
// log is an external cluster (nats.url) or when control does not run here.
func (c *Config) NATSListen() string {
	l := c.NATS.ListenAddr
	if agentconfig.Off(l) || c.NATS.URL != "" || !c.ControlEnabled() {
		return ""
	}
	if l != "" {
		return l
	}
	host, _, err := net.SplitHostPort(c.Control.ListenAddr)
	if err != nil {
		return ""
	}
	return net.JoinHostPort(host, DefaultNATSPort)
}

// ControlEnabled reports whether control runs in this process: control.
// enabled when set, else true unless tollgate.proxy_server names a remote
// control to join (an agent host's config from `db configure create`).
func (c *Config) ControlEnabled() bool {
	if c.Control.Enabled != nil {
		return *c.Control.Enabled
	}
	return c.Agent.Tollgate.ProxyServer == ""
}

// AgentTunnel reports whether this process's agent keeps a reverse tunnel
// to control: db_service.tunnel when set; unset, on when
// db_service.listen_addr is none (an agent with no listener is reached
// through its tunnel only).
func (c *Config) AgentTunnel() bool {
	if !c.AgentEnabled || c.ControlEnabled() {
		return false
	}
	if t := c.Agent.DBService.Tunnel; t != nil {
		return *t
	}
	return agentconfig.Off(c.Agent.DBService.ListenAddr)
}

// Default returns the configuration used with no file.
func Default() Config {
	return Config{
		DataDir: DefaultDataDir,
		Control: Control{ListenAddr: DefaultControlListen, MetricsAddr: agentconfig.DefaultMetricsAddr},
		Agent:   agentconfig.Default(),
	}
}

// Load reads a YAML file over the defaults. Unknown keys are errors, with
// their line.
func Load(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return Parse(raw)
}

// Parse decodes YAML over the defaults and validates the result. The agent
// sections are parsed by agent/config first (its errors name the field path
// and line), then the whole file strictly.
func Parse(raw []byte) (Config, error) {
	agent, err := agentconfig.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	c := Default()
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	topData := c.DataDir
	c.Agent = agent
	c.AgentEnabled = hasKey(raw, "db_service") && agent.DBService.IsEnabled()
	if c.Export != nil {
		if err := c.Export.Validate(sink.Types()); err != nil {
			return Config{}, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	// One data dir: tollgate.data_dir alone sets it; both must agree.
	if ad := agent.Tollgate.DataDir; ad != "" {
		switch {
		case !hasKey(raw, "data_dir"):
			c.DataDir = ad
		case topData != ad:
			return Config{}, fmt.Errorf("%w: data_dir %q and tollgate.data_dir %q differ: they name the same dir (this process's data dir); set one", ErrInvalid, topData, ad)
		}
	}
	c.fill()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// hasKey reports whether the YAML document's top-level mapping has key.
func hasKey(raw []byte, key string) bool {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil || len(doc.Content) == 0 {
		return false
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

func (c *Config) fill() {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	// The agent keeps its identity and spool in this process's data dir.
	c.Agent.Tollgate.DataDir = c.DataDir
	if c.Control.ListenAddr == "" {
		c.Control.ListenAddr = DefaultControlListen
	}
	if c.Control.MetricsAddr == "" {
		c.Control.MetricsAddr = agentconfig.DefaultMetricsAddr
	}
	if c.Control.Keystore == "" {
		c.Control.Keystore = KeystoreFile
	}
}

// Validate checks values that cannot work.
func (c *Config) Validate() error {
	c.fill()
	if _, _, err := net.SplitHostPort(c.Control.ListenAddr); err != nil {
		return fmt.Errorf("%w: control.listen_addr %q: use HOST:PORT", ErrInvalid, c.Control.ListenAddr)
	}
	if c.Control.PublicAddr != "" {
		if _, _, err := net.SplitHostPort(c.Control.PublicAddr); err != nil {
			return fmt.Errorf("%w: control.public_addr %q: use HOST:PORT", ErrInvalid, c.Control.PublicAddr)
		}
	}
	if m := c.Control.MetricsAddr; !agentconfig.Off(m) {
		if _, _, err := net.SplitHostPort(m); err != nil {
			return fmt.Errorf("%w: control.metrics_addr %q: use HOST:PORT, e.g. 127.0.0.1:7090, or none", ErrInvalid, m)
		}
	}
	if l := c.NATS.ListenAddr; l != "" && !agentconfig.Off(l) {
		if _, _, err := net.SplitHostPort(l); err != nil {
			return fmt.Errorf("%w: nats.listen_addr %q: use HOST:PORT, e.g. \"0.0.0.0:7422\", or none", ErrInvalid, l)
		}
		if c.NATS.URL != "" {
			return fmt.Errorf("%w: nats.listen_addr is for the embedded server: remove it or nats.url", ErrInvalid)
		}
	}
	if err := c.validateLeaf(); err != nil {
		return err
	}
	if c.NATS.Replicas < 0 {
		return fmt.Errorf("%w: nats.replicas %d: use 0 (the default: 1) or a positive number (3 on a cluster)", ErrInvalid, c.NATS.Replicas)
	}
	if err := c.NATS.validateTLS(); err != nil {
		return err
	}
	if c.NATS.Advertise != "" {
		u, err := url.Parse(c.NATS.Advertise)
		if err != nil || u.Host == "" || (u.Scheme != "tls" && u.Scheme != "nats") {
			return fmt.Errorf("%w: nats.advertise %q: use a URL like tls://HOST:PORT", ErrInvalid, c.NATS.Advertise)
		}
	}
	if !c.ControlEnabled() && c.AgentEnabled && c.Agent.Tollgate.ProxyServer == "" {
		return fmt.Errorf("%w: tollgate.proxy_server: required when control does not run in this process (the agent joins control there)", ErrInvalid)
	}
	if c.AgentEnabled {
		if err := c.Agent.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	if err := c.Control.validateKeystore(); err != nil {
		return err
	}
	for typ, alg := range c.Control.CAKeyAlg {
		switch typ {
		case "user", "host", "db", "db_client":
		default:
			return fmt.Errorf("%w: control.ca_key_alg: unknown CA type %q (use user, host, db or db_client)", ErrInvalid, typ)
		}
		switch strings.ToUpper(alg) {
		case KeyAlgECDSA, KeyAlgRSA:
		default:
			return fmt.Errorf("%w: control.ca_key_alg.%s: %q (use ECDSA-P256 or RSA-2048)", ErrInvalid, typ, alg)
		}
	}
	return nil
}

// KeyAlg returns the key algorithm for a CA type.
func (c *Config) KeyAlg(caType string) string {
	if a, ok := c.Control.CAKeyAlg[caType]; ok && a != "" {
		return strings.ToUpper(a)
	}
	return KeyAlgECDSA
}

// ResolveDataDir returns the data dir a CLI should use: the flag, else
// TOLLGATE_DATA_DIR, else ./tollgate-data.
func ResolveDataDir(flag string) string {
	if flag != "" {
		return flag
	}
	if v := os.Getenv(EnvDataDir); v != "" {
		return v
	}
	return DefaultDataDir
}
