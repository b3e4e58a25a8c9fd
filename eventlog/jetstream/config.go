package jetstream

import (
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/embedded"
)

// Defaults of Config.
const (
	DefaultAuditRetention  = 365 * 24 * time.Hour
	DefaultDuplicateWindow = 2 * time.Minute
	// HeaderRoom is added to MaxEventSize to get the streams' MaxMsgSize, so
	// that the Nats-Msg-Id and expectation headers fit beside a maximal
	// event. Stream itself refuses events over MaxEventSize.
	HeaderRoom = 1024
)

// Config says where the log is and how its streams are set up. The zero
// value (plus DataDir) is a single-node embedded log.
type Config struct {
	// URL of an external NATS server or cluster; empty runs an embedded one.
	URL string
	// CredsFile, CAFile, CertFile and KeyFile authenticate to an external
	// server (all optional).
	CredsFile string
	CAFile    string
	CertFile  string
	KeyFile   string

	// DataDir holds the embedded server's files (in DataDir/jetstream) unless
	// Embedded.StoreDir is set.
	DataDir string
	// Embedded configures the embedded server (listener, TLS, limits).
	Embedded embedded.Config

	// Bind opens the existing streams without creating or updating them:
	// for a client without those rights (a remote agent).
	Bind bool

	// ControlName and AuditName override the stream names (default
	// eventlog.ControlStream and eventlog.AuditStream).
	ControlName string
	AuditName   string
	// Replicas of each stream (default 1; 3 on a cluster).
	Replicas int
	// AuditRetention is the audit stream's MaxAge (default 365 days).
	AuditRetention time.Duration
	// MaxEventSize bounds one event's JSON (default
	// eventlog.DefaultMaxEventSize).
	MaxEventSize int
	// DuplicateWindow is how long event ids are remembered for
	// de-duplication (default 2 minutes).
	DuplicateWindow time.Duration

	Logger zerolog.Logger
}

// WithDefaults returns c with every zero setting replaced by its default.
func (c Config) WithDefaults() Config {
	if c.ControlName == "" {
		c.ControlName = eventlog.ControlStream
	}
	if c.AuditName == "" {
		c.AuditName = eventlog.AuditStream
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.AuditRetention <= 0 {
		c.AuditRetention = DefaultAuditRetention
	}
	if c.MaxEventSize <= 0 {
		c.MaxEventSize = eventlog.DefaultMaxEventSize
	}
	if c.DuplicateWindow <= 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
	return c
}

// StreamConfigs returns the JetStream configurations of the control and
// audit streams.
func (c Config) StreamConfigs() (control, audit jetstream.StreamConfig) {
	c = c.WithDefaults()
	base := jetstream.StreamConfig{
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		Replicas:    c.Replicas,
		MaxMsgSize:  int32(c.MaxEventSize + HeaderRoom),
		Duplicates:  c.DuplicateWindow,
		AllowDirect: true,
		// No message of either stream may be deleted or purged through
		// the JetStream API (DESIGN §3). MaxAge still ages audit events out.
		DenyDelete: true,
		DenyPurge:  true,
	}
	control = base
	control.Name = c.ControlName
	control.Description = "Tollgate control events: who may do what (kept forever)"
	control.Subjects = []string{eventlog.ControlPrefix + ".>"}
	audit = base
	audit.Name = c.AuditName
	audit.Description = "Tollgate audit events: what happened"
	audit.Subjects = []string{eventlog.AuditPrefix + ".>"}
	audit.MaxAge = c.AuditRetention
	return control, audit
}
