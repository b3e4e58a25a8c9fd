package config

import (
	"strings"
	"time"
)

// DefaultCheckpointInterval and MaxCheckpointInterval bound
// db_service.checkpoint_interval.
const (
	DefaultCheckpointInterval = 10 * time.Second
	MaxCheckpointInterval     = 5 * time.Minute
)

// Defaults (DESIGN §6).
const (
	DefaultListenAddr = "0.0.0.0:7432"
	// DefaultMetricsAddr serves /metrics and /healthz on loopback only:
	// exposing them is a choice (db_service.metrics_addr).
	DefaultMetricsAddr      = "127.0.0.1:7090"
	DefaultMaxMessageSize   = 64 << 20
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultMaxConnections   = 1000
	// DefaultSpoolMaxBytes bounds the audit spool on disk.
	DefaultSpoolMaxBytes = 1 << 30
	// DefaultConfigPath is where `tollgate db configure create -o file`
	// writes and where the systemd unit points `tollgate start`.
	DefaultConfigPath = "/etc/tollgate.yaml"
	// DefaultDataDir is the data dir written by `db configure create`.
	DefaultDataDir = "/var/lib/tollgate"
	// DefaultTokenPath is where the guide keeps an agent's join token: a
	// path the systemd unit's sandbox can read (/etc is read-only there,
	// while PrivateTmp=true hides /tmp).
	DefaultTokenPath = "/etc/tollgate/token"
)

// Audit modes.
const (
	// AuditStrict forwards a query only after its audit event is acked.
	AuditStrict = "strict"
	// AuditAsync forwards at once and spools the events durably.
	AuditAsync = "async"
	// SpoolSyncInterval and SpoolSyncAlways are the spool_sync values.
	SpoolSyncInterval = "interval"
	SpoolSyncAlways   = "always"
)

// TLS verification modes towards a database.
const (
	TLSVerifyFull = "verify-full"
	TLSVerifyCA   = "verify-ca"
)

// File is the agent's part of a tollgate YAML config file.
type File struct {
	Tollgate  Join      `yaml:"tollgate"`
	DBService DBService `yaml:"db_service"`
}

// Join says how this process joins a cluster (Teleport's `teleport:`
// section).
type Join struct {
	// AuthToken is the join token: the value itself or the path of a file
	// holding it (see Join.Token).
	AuthToken string `yaml:"auth_token,omitempty"`
	// ProxyServer is the control address, HOST:PORT, or a comma-separated
	// list of the cluster's controls (HOST:PORT,HOST:PORT) that the join
	// and every later call (renewal, certs) try in order when one cannot
	// be reached.
	ProxyServer string `yaml:"proxy_server,omitempty"`
	// CAPin is the expected pin of the cluster's host CA,
	// sha256:<64 hex>, checked on first contact.
	CAPin string `yaml:"ca_pin,omitempty"`
	// DataDir holds the agent's identity and its async spool.
	DataDir string `yaml:"data_dir,omitempty"`
}

// DBService is the database gateway.
type DBService struct {
	// Enabled runs the gateway; nil means true.
	Enabled *bool `yaml:"enabled,omitempty"`
	// ListenAddr is the PostgreSQL-wire listener (default 0.0.0.0:7432);
	// none: no listener, clients come through the tunnel only (which
	// none turns on).
	ListenAddr string `yaml:"listen_addr,omitempty"`
	// PublicAddr is the HOST:PORT clients dial; registered with each
	// database. Empty: derived from ListenAddr by the caller.
	PublicAddr string `yaml:"public_addr,omitempty"`
	// MetricsAddr serves Prometheus /metrics and /healthz (default
	// 127.0.0.1:7090; "none" or "-": no listener). `tollgate start
	// --metrics-addr` overrides it.
	MetricsAddr string `yaml:"metrics_addr,omitempty"`
	// AuditMode is strict (default) or async.
	AuditMode string `yaml:"audit_mode,omitempty"`
	// MaxMessageSize bounds one PostgreSQL message (default 64 MiB).
	MaxMessageSize ByteSize `yaml:"max_message_size,omitempty"`
	// HandshakeTimeout bounds the time from accept to an authorized session
	// (default 10s).
	HandshakeTimeout time.Duration `yaml:"handshake_timeout,omitempty"`
	// CheckpointInterval: while the agent writes audit events, it signs
	// the head of its hash chain at least this often (default 10s, at
	// most 5m), besides at each session end and at shutdown.
	CheckpointInterval time.Duration `yaml:"checkpoint_interval,omitempty"`
	// IdleTimeout ends a session with no client traffic for this long;
	// 0 means none.
	IdleTimeout time.Duration `yaml:"idle_timeout,omitempty"`
	// MaxConnections bounds concurrent client connections (default 1000).
	MaxConnections int `yaml:"max_connections,omitempty"`
	// SpoolDir holds every audit event, strict or async mode, until the
	// log stored it (default <data_dir>/spool).
	SpoolDir string `yaml:"spool_dir,omitempty"`
	// SpoolSync is when the spool reaches stable storage: "interval"
	// (default: at most every 100 ms; a process crash loses nothing, a power
	// loss may lose the last interval) or "always" (after every write;
	// slower, loses nothing on power loss either).
	SpoolSync string `yaml:"spool_sync,omitempty"`
	// SpoolMaxBytes bounds the spool on disk (default 1GiB, at least
	// 256KiB). When events the log has not stored yet fill it, queries are
	// refused (SQLSTATE 58000) until the log takes them.
	SpoolMaxBytes ByteSize `yaml:"spool_max_bytes,omitempty"`
	// AuditLeaf, with a hub_url, makes this agent a NATS leaf node with
	// its own JetStream: its audit is durable in a local stream the hub
	// sources, so strict sessions keep running while the hub or the link
	// is down (docs/OPERATIONS.md, "Leaf-node agents").
	AuditLeaf AuditLeaf `yaml:"audit_leaf,omitempty"`
	// Tunnel keeps a reverse tunnel to control (tollgate.proxy_server):
	// clients reach this agent's databases through control's public port,
	// so the agent needs no address they can dial (docs/OPERATIONS.md,
	// "Agents behind a firewall"). Unset, it is on when listen_addr is none:
	// an agent with no listener is reached through its tunnel only.
	Tunnel *bool `yaml:"tunnel,omitempty"`
	// Databases are served statically.
	Databases []Database `yaml:"databases,omitempty"`
	// Resources select dynamically registered databases by labels.
	Resources []ResourceMatcher `yaml:"resources,omitempty"`
}

// AuditLeaf is db_service.audit_leaf.
type AuditLeaf struct {
	// HubURL is control's leaf-node listener (its nats.leaf_listen_addr),
	// e.g. "tls://control.example.com:7423"; empty: not a leaf node.
	HubURL string `yaml:"hub_url,omitempty"`
	// HubDomain is the hub's JetStream domain (control's nats.domain,
	// default "tollgate").
	HubDomain string `yaml:"hub_domain,omitempty"`
	// MaxBytes bounds the local audit stream (default 1GiB, at least
	// 256KiB): when events the hub has not taken fill it (and then the
	// spool), queries are refused (SQLSTATE 58000) until the hub takes
	// them.
	MaxBytes ByteSize `yaml:"max_bytes,omitempty"`
}

// Enabled reports whether the agent is a leaf node.
func (l AuditLeaf) Enabled() bool { return l.HubURL != "" }

// DefaultHubDomain is the hub's JetStream domain by default.
const DefaultHubDomain = "tollgate"

// Database is one database this agent serves.
type Database struct {
	Name        string            `yaml:"name"`
	Description string            `yaml:"description,omitempty"`
	Protocol    string            `yaml:"protocol"`
	URI         string            `yaml:"uri"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	TLS         DatabaseTLS       `yaml:"tls,omitempty"`
}

// DatabaseTLS is how the agent verifies the database's server cert.
type DatabaseTLS struct {
	// Mode is verify-full (default) or verify-ca.
	Mode string `yaml:"mode,omitempty"`
	// CACertFile is a PEM bundle to trust; empty means the cluster's db CA.
	CACertFile string `yaml:"ca_cert_file,omitempty"`
	// ServerName is the name to verify; empty means the URI's host.
	ServerName string `yaml:"server_name,omitempty"`
}

// ResourceMatcher selects registered databases whose labels match: every
// key must be present with one of the listed values; "*" matches any key or
// value (gateway.Selector, which the daemon builds from it, matches).
type ResourceMatcher struct {
	Labels map[string]StringList `yaml:"labels"`
}

// Default returns the agent configuration used with no file.
func Default() File {
	var f File
	f.fill()
	return f
}

// IsEnabled reports whether the gateway runs.
func (s *DBService) IsEnabled() bool { return s.Enabled == nil || *s.Enabled }

func (f *File) fill() {
	s := &f.DBService
	if s.ListenAddr == "" {
		s.ListenAddr = DefaultListenAddr
	}
	if s.MetricsAddr == "" {
		s.MetricsAddr = DefaultMetricsAddr
	}
	if s.AuditMode == "" {
		s.AuditMode = AuditStrict
	}
	if s.SpoolSync == "" {
		s.SpoolSync = SpoolSyncInterval
	}
	if s.MaxMessageSize == 0 {
		s.MaxMessageSize = DefaultMaxMessageSize
	}
	if s.SpoolMaxBytes == 0 {
		s.SpoolMaxBytes = DefaultSpoolMaxBytes
	}
	if s.AuditLeaf.Enabled() {
		if s.AuditLeaf.HubDomain == "" {
			s.AuditLeaf.HubDomain = DefaultHubDomain
		}
		if s.AuditLeaf.MaxBytes == 0 {
			s.AuditLeaf.MaxBytes = DefaultSpoolMaxBytes
		}
	}
	if s.HandshakeTimeout == 0 {
		s.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if s.CheckpointInterval == 0 {
		s.CheckpointInterval = DefaultCheckpointInterval
	}
	if s.MaxConnections == 0 {
		s.MaxConnections = DefaultMaxConnections
	}
	for i := range s.Databases {
		if s.Databases[i].TLS.Mode == "" {
			s.Databases[i].TLS.Mode = TLSVerifyFull
		}
	}
}

// Off reports whether a listener address means "no listener": "none" or
// "-".
func Off(addr string) bool { return addr == "-" || strings.EqualFold(addr, "none") }
