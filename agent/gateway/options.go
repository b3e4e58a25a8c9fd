package gateway

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"time"

	"github.com/tollgate-db/tollgate/agent/auditpub"
	"github.com/tollgate-db/tollgate/agent/metrics"
	"github.com/tollgate-db/tollgate/agent/recordlimit"
	"github.com/tollgate-db/tollgate/agent/relay"
	"github.com/tollgate-db/tollgate/agent/upstream"
	"github.com/tollgate-db/tollgate/projections"
)

// Defaults of Options.
const (
	DefaultGrace = 10 * time.Second
	// DefaultListenAddr is the PostgreSQL-wire listener's default address.
	DefaultListenAddr = "0.0.0.0:7432"
	// DefaultMaxConnections bounds concurrent client connections.
	DefaultMaxConnections = 1000
	// DefaultMessageBudget is the default Options.MessageBudget: two
	// messages at the largest default size (64 MiB).
	DefaultMessageBudget = 128 << 20
	// NoListener as Options.MetricsAddr serves no metrics listener.
	NoListener = "-"
)

// Options configure a Gateway. They are plain values: the composition root
// (internal/node) builds them from the YAML; tests, the demo and the bench
// write them in code. A zero value means the default; a negative or
// unknown one is an error at New (Validate).
type Options struct {
	// DataDir holds the agent's identity (<DataDir>/agent) and, unless
	// SpoolDir names another dir, its audit spool (<DataDir>/spool). Empty:
	// nothing is kept, the agent joins at every start and has no spool.
	DataDir string
	// JoinToken returns the join token. It is called at the first start
	// only (no identity in DataDir yet): once joined, the file holding it
	// may be gone. Nil, or "": join.Ensure's error says how to get one.
	JoinToken func() (string, error)
	// Hostname joins the cluster under this name (default os.Hostname).
	Hostname string
	// ListenAddr is the PostgreSQL-wire listener (default
	// DefaultListenAddr). Changing it takes a restart.
	ListenAddr string
	// MetricsAddr serves /metrics and /healthz (default
	// metrics.DefaultAddr; NoListener: none).
	MetricsAddr string
	// HandshakeTimeout bounds the time from accept to an authorized session
	// (default frontdoor.DefaultHandshakeTimeout).
	HandshakeTimeout time.Duration
	// MaxConnections bounds concurrent client connections (default
	// DefaultMaxConnections).
	MaxConnections int
	// CheckpointInterval: while the agent writes audit events, it signs the
	// head of its hash chain at least this often (default
	// auditpub.DefaultCheckpointInterval).
	CheckpointInterval time.Duration
	// SpoolDir holds every audit event until the log stored it (default
	// <DataDir>/spool; none without a DataDir).
	SpoolDir string
	// SpoolSyncEveryAppend syncs the spool to stable storage after every
	// write; by default at most every 100 ms (spool.SyncInterval).
	SpoolSyncEveryAppend bool
	// SpoolMaxBytes bounds the spool on disk (default
	// spool.DefaultMaxBytes).
	SpoolMaxBytes int64

	// Reloadable is what Reload replaces.
	Reloadable
	// Reloader, when set, gives Reload the new Reloadable (the daemon
	// re-reads its config file); unset, Reload keeps it.
	Reloader func(ctx context.Context) (Reloadable, error)

	// Grace bounds draining at shutdown (default DefaultGrace).
	Grace time.Duration
	// IdentityCheck is how often the host cert and host CA trust are
	// checked (default DefaultIdentityCheck).
	IdentityCheck time.Duration
	// Now is the clock the host cert's lifetime is judged by (default
	// time.Now).
	Now func() time.Time
	// AuditOptions tune the audit publisher.
	AuditOptions auditpub.Options
	// Floods bound what unauthenticated clients make the agent record:
	// per source and window, refusals before a verified cert and cancels
	// not forwarded past Burst are summarised (defaults: recordlimit's).
	Floods recordlimit.Options
	// MessageBudget bounds the bytes that large client messages (over
	// 64 KiB) hold at once across all sessions (default
	// DefaultMessageBudget): past it, sessions wait to read the next one.
	MessageBudget int64
}

// Reloadable is the part of Options that Reload replaces: what the agent
// serves and how it audits new sessions.
type Reloadable struct {
	// AuditMode is relay.Strict (the default: a query is forwarded once
	// its event is stored) or relay.Async.
	AuditMode relay.Mode
	// MaxMessageSize bounds one PostgreSQL message (default
	// pgwire.DefaultMaxMessage).
	MaxMessageSize int
	// IdleTimeout ends a session with no client traffic for this long
	// (0: none).
	IdleTimeout time.Duration
	// PublicAddr is the HOST:PORT clients dial, registered with each
	// static database (default: derived from ListenAddr; AdvertiseAddr).
	PublicAddr string
	// Databases are served statically and registered with control.
	Databases []Database
	// Resources select registered databases by their labels.
	Resources []Selector
}

// Database is one database the agent serves statically.
type Database struct {
	Name        string
	Description string
	// Protocol is schemas.ProtocolPostgres or schemas.ProtocolCockroachDB.
	Protocol string
	// URI is the database's HOST:PORT.
	URI    string
	Labels map[string]string
	// TLSMode is how the server cert is verified: upstream.VerifyFull
	// (default) or upstream.VerifyCA.
	TLSMode string
	// ServerName is the name verified (default: URI's host).
	ServerName string
	// Roots verify the server cert (default: the cluster's db CA).
	Roots *x509.CertPool
}

// Selector selects registered databases by labels (projections.Selector:
// control matches the same selectors, to route tunneled clients).
type Selector = projections.Selector

// withDefaults fills the zero values.
func (o Options) withDefaults() Options {
	if o.MessageBudget <= 0 {
		o.MessageBudget = DefaultMessageBudget
	}
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	if o.ListenAddr == "" {
		o.ListenAddr = DefaultListenAddr
	}
	if o.MetricsAddr == "" {
		o.MetricsAddr = metrics.DefaultAddr
	}
	o.Hostname = o.hostname()
	if o.IdentityCheck <= 0 {
		o.IdentityCheck = DefaultIdentityCheck
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxConnections == 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.Floods.MaxSources <= 0 {
		o.Floods.MaxSources = recordlimit.DefaultMaxSources
	}
	o.Reloadable = o.Reloadable.withDefaults()
	return o
}

// withDefaults fills the zero values.
func (r Reloadable) withDefaults() Reloadable {
	dbs := make([]Database, len(r.Databases))
	for i, d := range r.Databases {
		if d.TLSMode == "" {
			d.TLSMode = upstream.VerifyFull
		}
		dbs[i] = d
	}
	r.Databases = dbs
	return r
}

func (o Options) hostname() string {
	if o.Hostname != "" {
		return o.Hostname
	}
	h, _ := os.Hostname()
	return h
}

// spoolDir is where the audit spool lives ("" : no spool).
func (o Options) spoolDir() string {
	if o.SpoolDir != "" || o.DataDir == "" {
		return o.SpoolDir
	}
	return filepath.Join(o.DataDir, "spool")
}
