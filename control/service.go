package control

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/control/keystore"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/version"
	"github.com/tollgate-db/tollgate/policy/sqlfacts"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/follow"
)

// Version is the Tollgate version recorded at bootstrap and shown by status.
const Version = version.Version

// Source is the event source of control.
const Source = "control"

// KeystoreDir is the keystore's directory in a data dir.
func KeystoreDir(dataDir string) string { return filepath.Join(dataDir, "keystore") }

// OpenFileKeys opens the file keystore in dataDir, sealed under the key in
// sealKeyFile when it is set (created 0600 when missing).
func OpenFileKeys(dataDir, sealKeyFile string) (*keystore.Store, error) {
	var opts []keystore.Option
	if sealKeyFile != "" {
		opts = append(opts, keystore.WithSealKey(sealKeyFile, true))
	}
	ks, err := keystore.New(KeystoreDir(dataDir), opts...)
	if err != nil {
		return nil, fmt.Errorf("open keystore: %w", err)
	}
	return ks, nil
}

// Service is the control plane: the projection it follows, the core every
// command shares (authorize, build, append, wait for the projection) and
// its own identity. Its commands and queries are grouped by concept, each a
// small type over the Service: Users, Roles, Tokens, Locks, Databases,
// Agents, Certs, CAs, Cluster, Auth and Audit (control/api mounts each).
type Service struct {
	cfg     Config
	log     zerolog.Logger
	builder *eventlog.Builder
	keys    Keys
	// local is this control's own keystore in its data dir (its host cert
	// and key: each control has its own names); keys when they are not
	// shared.
	local    Keys
	pki      *authority
	audit    *auditor
	throttle *throttle

	certMu sync.Mutex // control's host cert (servercert.go)

	hostCertMu       sync.Mutex // recording control's host cert (checkpoint.go)
	hostCertRecorded string     // serial last known to be on the control stream

	// proj follows the control stream; it stops for good on a Follow
	// error, so that an API call waiting for its write fails at once.
	proj *follow.Follower
	// facts caches what the SQL parser read in statement texts
	// (simulations of statement rules).
	facts *sqlfacts.Cache
}

// New returns a Service; call Start to follow the log and bootstrap.
func New(cfg Config) (*Service, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	b := eventlog.NewBuilder(Source)
	b.Clock = cfg.Clock
	s := &Service{cfg: cfg, log: cfg.Logger, builder: b, proj: follow.New(cfg.Control, follow.Options{Logger: cfg.Logger}),
		facts: sqlfacts.NewCache(4096, 8<<20)}
	local, err := OpenFileKeys(cfg.DataDir, cfg.SealKeyFile)
	if err != nil {
		return nil, err
	}
	ks := cfg.Keys
	if ks == nil {
		ks = local
	}
	s.keys, s.local = ks, local
	s.pki = newAuthority(s, ks)
	s.audit = newAuditor(s)
	s.throttle = newThrottle(cfg.FailureDelay)
	return s, nil
}

// Start follows the control stream in the background until ctx ends, then
// bootstraps the cluster if it is new. It returns once bootstrap is done.
func (s *Service) Start(ctx context.Context) error {
	go s.proj.Run(ctx)
	if err := s.Bootstrap(ctx); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	return nil
}

// View calls fn with the current state under a read lock. fn must not keep
// or change it.
func (s *Service) View(fn func(st *projections.State)) { s.proj.View(fn) }

// WaitSeq blocks until the projection has applied seq.
func (s *Service) WaitSeq(ctx context.Context, seq uint64) error { return s.proj.WaitSeq(ctx, seq) }

// Sync waits until the projection has applied everything in the stream now.
func (s *Service) Sync(ctx context.Context) error { return s.proj.Sync(ctx) }
